import type { WorkerOptions } from "bullmq";
import type { Lifecycle } from "@wyolo/db";
import type { WorkerEnv } from "./env.ts";
import type { Logger } from "./logger.ts";

/**
 * How a lost worker is noticed, in one place: a worker renews its lock on each job every
 * lockDuration/2; a lock not renewed is found by another worker's stalled check and the job is
 * put back (up to maxStalledCount times, then failed and left to the reconciler).
 */
export function lockOptions(env: WorkerEnv): Pick<WorkerOptions, "lockDuration" | "stalledInterval" | "maxStalledCount"> {
  return { lockDuration: env.LOCK_DURATION_MS, stalledInterval: env.STALLED_INTERVAL_MS, maxStalledCount: 3 };
}

/**
 * A job whose worker stopped renewing its lock was put back by BullMQ: record that on the row,
 * unless somebody picked it up again since (a pickup writes a fresh heartbeat at once, so
 * anything older belongs to the lost run). Exports have no heartbeat: their row stays RUNNING
 * and the next pickup sets it again.
 */
export function stalledHandler(lifecycle: Lifecycle, log: Logger) {
  return async (jobId: string) => {
    const staleBefore = new Date(Date.now() - 1_000);
    // One transaction: a worker picking the job up meanwhile waits on the row lock, so the
    // timeline reads "stalled" before "resumed".
    const result = await lifecycle.transition({
      kind: "training",
      id: jobId,
      to: "QUEUED",
      cause: "stalled",
      where: { OR: [{ heartbeatAt: null }, { heartbeatAt: { lt: staleBefore } }] },
      data: { etaSeconds: null },
      entry: (row) => ({ kind: "stalled", message: `Worker ${row.workerName ?? "?"} stopped responding; the job was re-queued` }),
    });
    if (result.applied) log.warn({ jobId, lostWorker: result.row.workerName }, "stalled job re-queued");
  };
}
