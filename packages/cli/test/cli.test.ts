import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../src/cli.ts";
import { destination, pickArtifact } from "../src/commands/download.ts";
import { exportBody } from "../src/commands/export.ts";
import { trainNotes } from "../src/commands/submit.ts";
import { EXIT } from "../src/errors.ts";
import type { Io } from "../src/io.ts";

/** The real program with its own streams, environment and working folder. */
async function wyolo(args: string[], env: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-cli-"));
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    stdin: Readable.from([]) as unknown as Io["stdin"],
    env: { XDG_CONFIG_HOME: dir, HOME: dir, ...env },
    cwd: dir,
    fetch,
  };
  const code = await run(args, io);
  return { code, stdout, stderr, dir };
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as { port: number };
  await new Promise((r) => srv.close(r));
  return port;
}

describe("arguments", () => {
  it("--help and --version exit 0; help lists the exit codes", async () => {
    const help = await wyolo(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("submit [options] <config>");
    expect(help.stdout).toMatch(/Exit codes:[\s\S]*130 {2}interrupted/);
    const version = await wyolo(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: "0.1.0\n" });
  });

  it("usage errors exit 64 with one error line", async () => {
    for (const args of [["submit"], ["nonsense"], ["submit", "c.yaml", "--priority", "urgent"], ["download"], ["jobs", "ls", "--bogus"]]) {
      const r = await wyolo(args);
      expect(r.code, args.join(" ")).toBe(EXIT.USAGE);
      expect(
        r.stderr.split("\n").filter((l) => l.startsWith("error:")),
        args.join(" "),
      ).toHaveLength(1);
    }
  });

  it("without a login: exit 4 and what to do; with --json the error parses too", async () => {
    const r = await wyolo(["jobs", "ls"]);
    expect(r).toMatchObject({ code: EXIT.AUTH, stdout: "" });
    expect(r.stderr).toBe("error: Not logged in: run `wyolo login` (or set WYOLO_URL and WYOLO_TOKEN)\n");
    const j = await wyolo(["--json", "jobs", "ls"]);
    expect(j.code).toBe(EXIT.AUTH);
    expect(JSON.parse(j.stdout)).toEqual({ error: { message: expect.stringContaining("Not logged in"), exitCode: 4 } });
    // --json after the command works the same.
    expect(JSON.parse((await wyolo(["whoami", "--json"])).stdout).error.exitCode).toBe(4);
  });

  it("a server that is not there: exit 5 naming it", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await wyolo(["jobs", "show", "abc"], { WYOLO_URL: url, WYOLO_TOKEN: "wyolo_x" });
    expect(r.code).toBe(EXIT.UNAVAILABLE);
    expect(r.stderr).toBe(`error: Cannot reach ${url} (ECONNREFUSED)\n`);
    // Following a job never seen gives up at once (an outage is waited out only once the job was read).
    for (const args of [
      ["follow", "abc"],
      ["logs", "abc", "-f"],
    ]) {
      const started = Date.now();
      const f = await wyolo(args, { WYOLO_URL: url, WYOLO_TOKEN: "wyolo_x" });
      expect(f).toMatchObject({ code: EXIT.UNAVAILABLE, stderr: `error: Cannot reach ${url} (ECONNREFUSED)\n` });
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  it("login refuses what is not a Wyolo token before asking the server, and needs a token source off a terminal", async () => {
    const notToken = await wyolo(["login", "--url", "http://127.0.0.1:9"], { WYOLO_TOKEN: "ghp_abc" });
    expect(notToken.code).toBe(EXIT.USAGE);
    expect(notToken.stderr).toMatch(/not a Wyolo API token/);
    const noToken = await wyolo(["login", "--url", "http://127.0.0.1:9"]);
    expect(noToken.code).toBe(EXIT.USAGE);
    expect(noToken.stderr).toMatch(/--token-stdin/);
    expect((await wyolo(["login"])).stderr).toMatch(/Which server\?/);
  });

  it("the old wyolo-train flags: --config_path=…, --trial_number and --fitness accepted and explained", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-train-"));
    const file = path.join(dir, "config.yaml");
    writeFileSync(file, "model: yolov8n.pt\ntrain:\n  data: shapes/data.yaml\n");
    const r = await wyolo(["train", `--config_path=${file}`, "--trial_number=1", "--fitness=fitness"]);
    // Parsed, explained, the file read; then the missing login stops it.
    expect(r.code).toBe(EXIT.AUTH);
    expect(r.stderr).toMatch(/^note: --trial_number=1 is not needed/m);
    expect(r.stderr).toMatch(/^note: --fitness=fitness is the default/m);
    const missing = await wyolo(["train", "--trial_number=1"]);
    expect(missing.code).toBe(EXIT.USAGE);
    expect(missing.stderr).toMatch(/--config_path/);
    const absent = await wyolo(["train", "--config_path=nope.yaml"]);
    expect(absent).toMatchObject({ code: EXIT.ERROR, stderr: "error: Cannot read nope.yaml: ENOENT\n" });
  });

  it("trainNotes: another fitness names sweeper.objective", () => {
    expect(trainNotes({ fitness: "metrics/mAP50(B)" })).toEqual([
      '--fitness=metrics/mAP50(B) is not read here: for a sweep, set sweeper.objective: "metrics/mAP50(B)" in the config',
    ]);
    expect(trainNotes({})).toEqual([]);
  });
});

describe("download and export arguments", () => {
  const artifacts = [
    { id: "a1", name: "weights/best.pt", size: 10, sha256: "x", updatedAt: "" },
    { id: "a2", name: "weights/last.pt", size: 10, sha256: "y", updatedAt: "" },
    { id: "a3", name: "results.csv", size: 1, sha256: "z", updatedAt: "" },
    { id: "a4", name: "exports/onnx/best.onnx", size: 1, sha256: "w", updatedAt: "" },
    { id: "a5", name: "exports/onnx-fp16/best.onnx", size: 1, sha256: "v", updatedAt: "" },
  ];
  it("best, last, a name, a file name, an id; ambiguity and absence are clear", () => {
    expect(pickArtifact(artifacts, "best").id).toBe("a1");
    expect(pickArtifact(artifacts, "last").id).toBe("a2");
    expect(pickArtifact(artifacts, "results.csv").id).toBe("a3");
    expect(pickArtifact(artifacts, "exports/onnx/best.onnx").id).toBe("a4");
    expect(pickArtifact(artifacts, "a5").id).toBe("a5");
    expect(() => pickArtifact(artifacts, "best.onnx")).toThrow(/matches exports\/onnx\/best.onnx, exports\/onnx-fp16\/best.onnx/);
    expect(() => pickArtifact(artifacts, "model.pt")).toThrow(/no artifact "model.pt" \(its artifacts: weights\/best.pt/);
    expect(() => pickArtifact([], "best")).toThrow(/none yet/);
  });
  it("destination: the file name here, -o as a file, or into an existing folder", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-dest-"));
    expect(destination(dir, "weights/best.pt", undefined)).toBe(path.join(dir, "best.pt"));
    expect(destination(dir, "weights/best.pt", "model.pt")).toBe(path.join(dir, "model.pt"));
    expect(destination("/elsewhere", "weights/best.pt", dir)).toBe(path.join(dir, "best.pt"));
    expect(destination(dir, "weights/best.pt", "out/")).toBe(path.join(dir, "out", "best.pt"));
  });
  it("export body: only the given options, numbers checked", () => {
    expect(exportBody({ format: "ONNX", imgsz: "640", half: true, dynamic: true })).toEqual({
      format: "onnx",
      imgsz: 640,
      half: true,
      dynamic: true,
    });
    expect(() => exportBody({ format: "onnx", opset: "x" })).toThrow(/--opset must be a whole number/);
    expect(() => exportBody({})).toThrow(/--format is required/);
  });
});

describe("download to disk", () => {
  // A tiny stand-in for the API and the object store, on this helper's port range.
  const port = 5831;
  const url = `http://127.0.0.1:${port}`;
  const blob = Buffer.from("weights".repeat(1000));
  const artifacts = [
    { id: "a1", name: "weights/best.pt", size: blob.length, sha256: createHash("sha256").update(blob).digest("hex"), updatedAt: "" },
    { id: "a2", name: "weights/last.pt", size: blob.length, sha256: "x", updatedAt: "" },
  ];
  const server = createHttpServer((req, res) => {
    const json = (body: unknown) => res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(body));
    const path = new URL(req.url ?? "/", url).pathname;
    if (path === "/api/v1/jobs/j1/artifacts") return json({ artifacts });
    if (path === "/api/v1/jobs/j1/artifacts/a1/download") return json({ url: `${url}/blob/best` });
    if (path === "/api/v1/jobs/j1/artifacts/a2/download") return json({ url: `${url}/blob/cut` });
    if (path === "/blob/best") return res.writeHead(200, { "content-length": blob.length }).end(blob);
    if (path === "/blob/cut") {
      // Promises the whole file, sends a tenth, then drops the connection.
      res.writeHead(200, { "content-length": blob.length });
      res.write(blob.subarray(0, blob.length / 10), () => res.destroy());
      return;
    }
    res.writeHead(404).end();
  });
  beforeAll(() => new Promise<void>((r) => server.listen(port, "127.0.0.1", r)));
  afterAll(() => new Promise((r) => server.close(r)));
  const env = { WYOLO_URL: url, WYOLO_TOKEN: "wyolo_x" };

  it("saves the file and checks its SHA-256", async () => {
    const r = await wyolo(["download", "j1", "-o", "model.pt"], env);
    expect(r.code, r.stderr).toBe(EXIT.OK);
    expect(readFileSync(path.join(r.dir, "model.pt")).equals(blob)).toBe(true);
  });

  it("a folder that does not exist is a file problem: exit 3, one line naming the path, nothing left", async () => {
    const r = await wyolo(["download", "j1", "-o", "missing/sub/model.pt"], env);
    expect(r.code).toBe(EXIT.ERROR);
    expect(r.stderr).toBe(`error: Cannot write ${path.join(r.dir, "missing/sub/model.pt")}: ENOENT\n`);
    expect(existsSync(path.join(r.dir, "missing"))).toBe(false);
  });

  it("a write that fails mid-file (a full disk) is a file problem too: exit 3", async (t) => {
    if (!existsSync("/dev/full")) return t.skip("no /dev/full here to stand for a full disk");
    // The partial file leads to /dev/full, which takes the open and refuses every write with ENOSPC.
    const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-full-"));
    symlinkSync("/dev/full", path.join(dir, "model.pt.part"));
    const r = await wyolo(["download", "j1", "-o", path.join(dir, "model.pt")], env);
    expect(r).toMatchObject({ code: EXIT.ERROR, stderr: `error: Cannot write ${path.join(dir, "model.pt")}: ENOSPC\n` });
    expect(existsSync(path.join(dir, "model.pt"))).toBe(false);
  });

  it("a connection dropped mid-file is still the network: exit 5, no partial file", async () => {
    const r = await wyolo(["download", "j1", "last", "-o", "last.pt"], env);
    expect(r.code).toBe(EXIT.UNAVAILABLE);
    expect(r.stderr).toMatch(/^error: Download of weights\/last.pt broke off: /);
    expect(existsSync(path.join(r.dir, "last.pt.part"))).toBe(false);
    expect(existsSync(path.join(r.dir, "last.pt"))).toBe(false);
  });
});
