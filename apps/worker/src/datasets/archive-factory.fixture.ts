import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll } from "vitest";

// Archives from the same generator as the validator's tests (Python's zipfile and tarfile write
// whatever names and entry types they are given, unsafe ones included), in a folder of the test file's own.
const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const FACTORY = path.resolve(import.meta.dirname, "../../datasets/tests/dataset_factory.py");

export function archiveFactory(prefix: string) {
  const tmp = mkdtempSync(path.join(os.tmpdir(), prefix));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  let n = 0;
  return {
    tmp,
    /** A fresh path under the folder. */
    next: (name: string) => path.join(tmp, `${name}${n++}`),
    /** Runs dataset_factory.py with `args` into a fresh path and returns it. */
    make(args: string[]): string {
      const out = path.join(tmp, `a${n++}`);
      const res = spawnSync(PYTHON, [FACTORY, out, ...args], { encoding: "utf8" });
      if (res.status !== 0) throw new Error(res.stderr);
      return out;
    },
  };
}
