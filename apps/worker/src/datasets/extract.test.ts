import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { archiveFactory } from "./archive-factory.fixture.ts";
import { ArchiveRefused, archiveKind, extractArchive, safeEntryPath, stripTopFolder } from "./extract.ts";

const archives = archiveFactory("wyolo-extract-");
const { tmp } = archives;
const factory = archives.make;
const limits = { maxFiles: 1_000, maxBytes: 50 * 1024 * 1024 };
const freshDest = () => path.join(archives.next("x"), "out");

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
