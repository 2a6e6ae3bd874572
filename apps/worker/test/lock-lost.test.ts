import { EventEmitter } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@wyolo/db";
import { createLogger } from "../src/logger.ts";
import { Leases } from "../src/lost-workers.ts";
import type { LivePublisher } from "../src/realtime.ts";
import { JobRecorder } from "../src/training/job-recorder.ts";
import { SpillFile } from "../src/training/spill-file.ts";

const log = createLogger("silent", "test");
const live = { jobUpdated() {}, epoch() {}, logLines() {}, event() {} } as unknown as LivePublisher;

// A database that counts what is asked of it and fails every call (Postgres away): close() keeps trying.
let calls = 0;
const unreachable = new Proxy(
  {},
  {
    get: (_t, key) => {
      if (key === "then") return undefined;
      const fail = () => {
        calls++;
        return { then: (_ok: unknown, reject: (e: Error) => void) => reject(new Error("connect ECONNREFUSED 127.0.0.1:1")) };
      };
      return new Proxy(fail, { get: () => fail });
    },
  },
) as unknown as Db;

let dir: string;
let leases: Leases;
let worker: EventEmitter;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "wyolo-lock-"));
  calls = 0;
  worker = new EventEmitter();
  leases = new Leases(8_000, log);
  leases.listen(worker as never);
});
afterEach(() => {
  leases.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a recorder closing when its job's lock is lost", () => {
  it("stops waiting at once (the worker slot is freed), writes nothing more, and keeps what it holds in the spill file", async () => {
    const lease = leases.hold("job1");
    const rec = new JobRecorder(
      unreachable,
      live,
      { id: "job1", projectId: "p1", bestMetric: null, bestMetricName: null, bestEpoch: null },
      0,
      {
        flushMs: 60_000,
        heartbeatMs: 60_000,
        maxLogLines: 100_000,
        log,
        onCancelRequested: () => {},
        spillDir: dir,
        mayWrite: () => !lease.lost(),
      },
    );
    rec.output("stdout", "last words");
    // The run's own signal never aborts here (no shutdown): only the lease can end the wait, as run-training passes it.
    const closing = rec.close(AbortSignal.any([new AbortController().signal, lease.signal]));
    await new Promise((r) => setTimeout(r, 300)); // Postgres away: close() is retrying
    expect(calls).toBeGreaterThan(0);
    worker.emit("lockRenewalFailed", ["job1"]);
    const seen = calls;
    await expect(closing).rejects.toMatchObject({ name: "AbortError" });
    expect(calls).toBe(seen);
    expect(new SpillFile(dir).read().records.some((r) => r.t === "log" && r.line.line === "last words")).toBe(true);
  });
});
