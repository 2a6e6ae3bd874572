import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it, vi } from "vitest";
import { ArchiveRefused, extractArchive, WorkerDiskFull } from "./extract.ts";

// The worker's disk full (or its quota spent) while unpacking: every file write fails as the kernel would say it.
const full = vi.hoisted(() => ({ code: "ENOSPC" }));
vi.mock("node:fs", async (importOriginal) => {
  const fs = await importOriginal<typeof import("node:fs")>();
  return {
    ...fs,
    createWriteStream: () =>
      new Writable({
        write: (_chunk, _enc, done) => done(Object.assign(new Error(`${full.code}: no space left on device, write`), { code: full.code })),
      }),
  };
});

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const FACTORY = path.resolve(import.meta.dirname, "../../datasets/tests/dataset_factory.py");
const tmp = mkdtempSync(path.join(os.tmpdir(), "wyolo-extract-full-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let n = 0;
function factory(args: string[]): string {
  const out = path.join(tmp, `a${n++}`);
  const res = spawnSync(PYTHON, [FACTORY, out, ...args], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(res.stderr);
  return out;
}
const limits = { maxFiles: 1_000, maxBytes: 50 * 1024 * 1024 };

describe("extractArchive on a full disk", () => {
  it.each([
    ["zip", "ENOSPC"],
    ["tar", "ENOSPC"],
    ["tgz", "EDQUOT"],
  ] as const)("a %s hitting %s is the worker's problem (retried), not a refused archive", async (kind, code) => {
    full.code = code;
    const archive = factory(["--task", "detect", "--archive", kind]);
    const err: unknown = await extractArchive(archive, path.join(tmp, `x${n++}`), limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerDiskFull);
    expect(err).not.toBeInstanceOf(ArchiveRefused);
    expect((err as Error).message).toContain(`ran out of disk space unpacking the archive (${code})`);
  });
});
