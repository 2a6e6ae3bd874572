import { Writable } from "node:stream";
import { describe, expect, it, vi } from "vitest";
import { archiveFactory } from "./archive-factory.fixture.ts";
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

const archives = archiveFactory("wyolo-extract-full-");
const factory = archives.make;
const limits = { maxFiles: 1_000, maxBytes: 50 * 1024 * 1024 };

describe("extractArchive on a full disk", () => {
  it.each([
    ["zip", "ENOSPC"],
    ["tar", "ENOSPC"],
    ["tgz", "EDQUOT"],
  ] as const)("a %s hitting %s is the worker's problem (retried), not a refused archive", async (kind, code) => {
    full.code = code;
    const archive = factory(["--task", "detect", "--archive", kind]);
    const err: unknown = await extractArchive(archive, archives.next("x"), limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerDiskFull);
    expect(err).not.toBeInstanceOf(ArchiveRefused);
    expect((err as Error).message).toContain(`ran out of disk space unpacking the archive (${code})`);
  });
});
