import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ArchiveRefused, archiveKind, extractArchive, safeEntryPath, stripTopFolder } from "./extract.ts";

// Archives from the same generator as the validator's tests (Python's zipfile and tarfile write
// whatever names and entry types they are given, unsafe ones included).
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const FACTORY = path.resolve(import.meta.dirname, "../../datasets/tests/dataset_factory.py");
const tmp = mkdtempSync(path.join(os.tmpdir(), "wyolo-extract-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function factory(args: string[]): string {
  const out = path.join(tmp, `a${n++}`);
  const res = spawnSync(PYTHON, [FACTORY, out, ...args], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(res.stderr);
  return out;
}
const limits = { maxFiles: 1_000, maxBytes: 50 * 1024 * 1024 };
const freshDest = () => path.join(tmp, `x${n++}`, "out");

describe("safeEntryPath", () => {
  it("keeps relative names and drops ./ and empty segments", () => {
    expect(safeEntryPath("./a//b/c.jpg")).toBe("a/b/c.jpg");
    expect(safeEntryPath("dir/")).toBe("dir");
  });
  it.each(["../x", "a/../../x", "/etc/passwd", "C:/x", "a\\b", "a/\u0001b"])("refuses %j", (name) => {
    expect(() => safeEntryPath(name)).toThrow(ArchiveRefused);
  });
});

describe("stripTopFolder", () => {
  const f = (p: string) => ({ path: p, size: 1, sha256: "0".repeat(64) });
  it("takes one folder holding everything as the root", () => {
    expect(stripTopFolder([f("shapes/data.yaml"), f("shapes/images/a.jpg")])).toEqual({
      prefix: "shapes",
      files: [f("data.yaml"), f("images/a.jpg")],
    });
  });
  it("leaves a flat or mixed archive as it is", () => {
    expect(stripTopFolder([f("data.yaml"), f("images/a.jpg")]).prefix).toBe("");
    expect(stripTopFolder([f("a/x"), f("b/y")]).prefix).toBe("");
  });
});

describe("extractArchive", () => {
  it.each(["zip", "tar", "tgz"] as const)("unpacks a %s dataset under its top folder, each file hashed", async (kind) => {
    const archive = factory(["--task", "detect", "--archive", kind, "--top", "shapes"]);
    expect(await archiveKind(archive)).toBe(kind);
    const dest = freshDest();
    const { root, files } = await extractArchive(archive, dest, limits);
    expect(root).toBe(path.join(dest, "shapes"));
    // 12 images, 12 label files, data.yaml.
    expect(files).toHaveLength(25);
    expect(files.map((f) => f.path)).toContain("images/train/img_0000.jpg");
    for (const f of files) {
      const bytes = readFileSync(path.join(root, f.path));
      expect(f.size).toBe(bytes.length);
      expect(f.sha256).toBe(createHash("sha256").update(bytes).digest("hex"));
    }
  });

  it.each([
    ["zip", "dotdot", /outside its folder|invalid relative path/],
    ["tar", "dotdot", /outside its folder/],
    ["tgz", "absolute", /absolute path/],
    ["zip", "absolute", /absolute path/],
    ["zip", "symlink", /symbolic link/],
    ["tar", "symlink", /symbolic link/],
    ["zip", "bomb", /more than 50 MB/],
    ["tgz", "bomb", /decompression bomb|more than 50 MB/],
    ["tar", "many", /more than 1,000 files/],
  ] as const)("refuses a %s with %s entries, writing nothing outside", { timeout: 30_000 }, async (kind, what, message) => {
    const archive = factory(["--unsafe", what, "--archive", kind]);
    const dest = freshDest();
    await expect(extractArchive(archive, dest, limits)).rejects.toThrow(message);
    await expect(extractArchive(archive, freshDest(), limits)).rejects.toBeInstanceOf(ArchiveRefused);
    // `ds/../../escaped.txt` would land beside `out`.
    expect(readdirSync(path.dirname(dest))).toEqual(["out"]);
    expect(existsSync("/tmp/wyolo-absolute-escape.txt")).toBe(false);
  });

  it("refuses what is not an archive", async () => {
    const file = path.join(tmp, "notes.txt");
    writeFileSync(file, "just text");
    await expect(extractArchive(file, freshDest(), limits)).rejects.toThrow("Not a zip, tar or tar.gz archive");
  });

  it("skips the packers' junk (__MACOSX, .DS_Store)", async () => {
    const src = path.join(tmp, "junk");
    mkdirSync(path.join(src, "__MACOSX"), { recursive: true });
    writeFileSync(path.join(src, "__MACOSX", "._a.jpg"), "x");
    writeFileSync(path.join(src, ".DS_Store"), "x");
    writeFileSync(path.join(src, "a.txt"), "x");
    const archive = path.join(tmp, "junk.tar");
    spawnSync("tar", ["-cf", archive, "-C", src, "."]);
    const { files } = await extractArchive(archive, freshDest(), limits);
    expect(files.map((f) => f.path)).toEqual(["a.txt"]);
  });
});
