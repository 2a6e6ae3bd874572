import { EventEmitter } from "node:events";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { workerEnvSchema } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import { Leases, lockOptions } from "../src/lost-workers.ts";

const log = createLogger("silent", "test");

describe("lock options", () => {
  it("take a silent worker as lost within 15 s by default: lock 8 s renewed every 2 s, checked every 2 s, BullMQ's stall limit off", () => {
    const opts = lockOptions(workerEnvSchema.parse({}));
    expect(opts).toEqual({ lockDuration: 8_000, lockRenewTime: 2_000, stalledInterval: 2_000, maxStalledCount: 1_000_000 });
    expect(opts.lockDuration! + opts.stalledInterval!).toBeLessThanOrEqual(10_000);
    expect(workerEnvSchema.parse({}).WORKER_MAX_LOSSES).toBeGreaterThanOrEqual(5);
  });
});

describe("a worker's hold on its jobs", () => {
  let worker: EventEmitter;
  let leases: Leases;
  beforeEach(() => {
    vi.useFakeTimers();
    worker = new EventEmitter();
    leases = new Leases(8_000, log);
    leases.listen(worker as never);
  });
  afterEach(() => {
    leases.close();
    vi.useRealTimers();
  });

  it("lasts while renewals succeed, and ends (aborting its signal) when none came for the lock's duration less a margin", () => {
    const lease = leases.hold("a");
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(2_000);
      worker.emit("locksRenewed", { count: 1, jobIds: ["a"] });
    }
    expect(lease.lost()).toBe(false);
    expect(lease.remainingMs()).toBe(7_500);
    vi.advanceTimersByTime(7_400);
    expect(lease.signal.aborted).toBe(false);
    vi.advanceTimersByTime(250);
    expect(lease.signal.aborted).toBe(true);
    expect(lease.lost()).toBe(true);
  });

  it("ends at once when a renewal is refused (another worker holds the lock)", () => {
    const a = leases.hold("a");
    const b = leases.hold("b");
    worker.emit("lockRenewalFailed", ["a"]);
    expect(a.signal.aborted).toBe(true);
    expect(b.lost()).toBe(false);
  });

  it("knows it is gone from the clock alone, before any timer ran (a worker back from a pause)", () => {
    const lease = leases.hold("a");
    vi.setSystemTime(Date.now() + 20_000);
    expect(lease.lost()).toBe(true);
    expect(lease.signal.aborted).toBe(true);
  });

  it("keeps the trainer's lifeline beating only while the hold outlasts the trainer's timeout, which ends before the lock can lapse", () => {
    const lease = leases.hold("a");
    const lifeline = leases.lifeline(lease);
    expect(lifeline).toMatchObject({ timeoutMs: 3_000, beatEveryMs: 1_000 });
    expect(lifeline.healthy()).toBe(true);
    // No renewal: beats stop while the trainer's timeout still ends inside the lock.
    vi.setSystemTime(Date.now() + 4_300);
    expect(lifeline.healthy()).toBe(false);
    expect(4_300 + lifeline.timeoutMs).toBeLessThan(8_000);
  });

  it("releases only its own hold: a later hold of the same job stays", () => {
    const first = leases.hold("a");
    const second = leases.hold("a");
    first.release();
    worker.emit("lockRenewalFailed", ["a"]);
    expect(second.signal.aborted).toBe(true);
  });
});
