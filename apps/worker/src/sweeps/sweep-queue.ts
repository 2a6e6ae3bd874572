import type { Queue } from "bullmq";
import {
  BULLMQ_PRIORITY,
  SWEEP_JOB_NAME,
  TRAIN_JOB_NAME,
  type Priority,
  type SweepJobPayload,
  type TrainJobPayload,
} from "@wyolo/contracts";

/** Why an advance was asked for; part of its job id, so the queue shows who asked. */
export type AdvanceReason = "created" | "trial-ended" | "deadline" | "mlflow" | "reconcile" | "trials-added" | "cancel";

/**
 * An advance step's queue entry id: `sweep-<sweepId>-<reason>-<n>`, never `:` nor digits only.
 * Two adds with the same `n` (a deadline's time) are one entry.
 */
export const advanceJobId = (sweepId: string, reason: AdvanceReason, n: number = Date.now()) => `sweep-${sweepId}-${reason}-${n}`;

/**
 * Queues one advance step of a sweep (idempotent, so extra ones cost only a reconcile). Failed
 * steps (Postgres or the study storage away) are retried with backoff; entries are not kept.
 */
export function enqueueAdvance(queue: Queue, sweepId: string, reason: AdvanceReason, opts: { delayMs?: number; n?: number } = {}) {
  const payload: SweepJobPayload = { sweepId };
  return queue.add(SWEEP_JOB_NAME, payload, {
    jobId: advanceJobId(sweepId, reason, opts.n),
    delay: opts.delayMs && opts.delayMs > 0 ? opts.delayMs : undefined,
    attempts: 10,
    backoff: { type: "exponential", delay: 2_000 },
    removeOnComplete: true,
    removeOnFail: true,
  });
}

const DAY = 86_400;

/** A trial's training entry, as the web's enqueueTraining writes one: jobId = row id, the sweep's priority. */
export function enqueueTrial(queue: Queue, jobId: string, priority: Priority) {
  const payload: TrainJobPayload = { jobId };
  return queue.add(TRAIN_JOB_NAME, payload, {
    jobId,
    priority: BULLMQ_PRIORITY[priority],
    attempts: 5,
    backoff: { type: "exponential", delay: 5_000 },
    removeOnComplete: { age: 7 * DAY, count: 5_000 },
    removeOnFail: { age: 30 * DAY, count: 20_000 },
  });
}
