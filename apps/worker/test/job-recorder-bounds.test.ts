import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "@wyolo/db";
import { createLogger } from "../src/logger.ts";
import type { LivePublisher } from "../src/realtime.ts";
import { JobRecorder } from "../src/training/job-recorder.ts";
import { SpillFile } from "../src/training/spill-file.ts";

// A database that is unreachable: every call fails the way a refused connection does. (The real
// outage, through a proxy in front of Postgres, is in test/integration/recording-outage.)
const unreachable = new Proxy(
  {},
  {
    get: (_t, key) => {
      if (key === "then") return undefined;
      // Lazy, like Prisma's promises: a query fails only when it is run (awaited).
      const fail = () => ({ then: (_ok: unknown, reject: (e: Error) => void) => reject(new Error("connect ECONNREFUSED 127.0.0.1:1")) });
      return new Proxy(fail, { get: () => fail });
    },
  },
) as unknown as Db;

const liveEvents: { kind: string }[] = [];
const live = {
  jobUpdated() {},
  epoch() {},
  logLines() {},
  event: (_id: string, e: { kind: string }) => liveEvents.push(e),
} as unknown as LivePublisher;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), "wyolo-rec-"));
  liveEvents.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

// A database that never answers (a half-open connection): every query hangs.
const hanging = new Proxy(
  {},
  {
    get: (_t, key) => {
      if (key === "then") return undefined;
      const hang = () => ({ then: () => {} });
      return new Proxy(hang, { get: () => hang });
    },
  },
) as unknown as Db;

function recorder(opts: { maxPendingLogLines?: number; maxPendingLogBytes?: number } = {}, db: Db = unreachable) {
  return new JobRecorder(db, live, { id: "job1", projectId: "p1", bestMetric: null, bestMetricName: null, bestEpoch: null }, 0, {
    flushMs: 60_000,
    heartbeatMs: 60_000,
    maxLogLines: 100_000,
    log: createLogger("silent", "test"),
    onCancelRequested: () => {},
    spillDir: dir,
    ...opts,
  });
}

const epoch = (n: number) => ({
  v: 1 as const,
  type: "epoch" as const,
  epoch: n,
  totalEpochs: 500,
  losses: { "val/box_loss": 1 / n },
  metrics: { "metrics/mAP50-95(B)": n / 1000 },
  lr: {},
  epochTime: 2,
});

describe("JobRecorder while Postgres is unreachable", () => {
  it("keeps output within its line bound by moving the oldest lines to the spill file, never dropping one", async () => {
    const rec = recorder({ maxPendingLogLines: 1_000 });
    for (let i = 1; i <= 20_000; i++) rec.output("stdout", `line ${i}`);
    expect(rec.buffered().logLines).toBeLessThanOrEqual(1_000);
    await rec.flush(); // fails: what is still only in memory goes to the spill file too
    const spilled = new SpillFile(dir).read().records.flatMap((r) => (r.t === "log" ? [r.line.seq] : []));
    expect(spilled).toEqual(Array.from({ length: 20_000 }, (_, i) => i + 1));
    expect(liveEvents.map((e) => e.kind)).toEqual(["recording_delayed"]);
  });

  it("keeps output within its byte bound", () => {
    const rec = recorder({ maxPendingLogBytes: 100_000 });
    for (let i = 1; i <= 2_000; i++) rec.output("stdout", "x".repeat(1_000));
    expect(rec.buffered().logBytes).toBeLessThanOrEqual(100_000);
    expect(new SpillFile(dir).read().records.length).toBeGreaterThanOrEqual(1_900);
  });

  it("never evicts an epoch, keeps the hot path synchronous and free of throws, and an aborted close leaves everything in the spill file", async () => {
    const rec = recorder({ maxPendingLogLines: 10 });
    rec.start();
    for (let n = 1; n <= 300; n++) {
      expect(rec.epoch(epoch(n))).toBeUndefined();
      rec.output("stdout", `after epoch ${n}`);
    }
    await rec.flush(); // the first epoch's flush, under way since epoch 1, puts it back when it fails
    expect(rec.buffered().epochs).toBe(300);
    const controller = new AbortController();
    const closing = rec.close(controller.signal);
    setTimeout(() => controller.abort(), 300);
    await expect(closing).rejects.toMatchObject({ name: "AbortError" });
    const records = new SpillFile(dir).read().records;
    expect(new Set(records.flatMap((r) => (r.t === "epoch" ? [r.row.epoch] : []))).size).toBe(300);
    expect(new Set(records.flatMap((r) => (r.t === "log" ? [r.line.seq] : []))).size).toBe(300);
    expect(records.filter((r) => r.t === "delayed")).toHaveLength(1);
    // A later recorder for the job numbers its lines after the spilled ones.
    const next = recorder();
    next.output("stdout", "next attempt");
    expect(next.buffered().logLines).toBe(1);
    await expect(next.close(AbortSignal.abort())).rejects.toMatchObject({ name: "AbortError" });
    expect(new SpillFile(dir).read().records.flatMap((r) => (r.t === "log" && r.line.line === "next attempt" ? [r.line.seq] : []))).toEqual(
      [301],
    );
  });

  it("an aborted close spills what a hung flush holds, and a NUL in output is stored as U+FFFD", async () => {
    const rec = recorder({}, hanging);
    rec.start();
    rec.output("stdout", "bad\0byte");
    rec.epoch(epoch(1)); // its flush hangs, holding the line and the epoch
    await expect(rec.close(AbortSignal.timeout(200))).rejects.toMatchObject({ name: "AbortError" });
    const records = new SpillFile(dir).read().records;
    expect(records.flatMap((r) => (r.t === "epoch" ? [r.row.epoch] : []))).toEqual([1]);
    expect(records.flatMap((r) => (r.t === "log" ? [r.line.line] : []))).toEqual(["bad\uFFFDbyte"]);
    expect(records.some((r) => r.t === "patch" && r.fields.currentEpoch === 1)).toBe(true);
  });
});
