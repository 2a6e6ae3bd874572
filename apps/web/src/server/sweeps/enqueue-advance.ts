import "server-only";
import { SWEEP_JOB_NAME, type SweepJobPayload } from "@wyolo/contracts";
import { logger } from "../logger";
import { sweepQueue } from "../queue";
import { withTimeout } from "../timeout";

/**
 * Why an advance is asked for. `created` and `reconcile` get a fixed queue id, so a second add
 * while one waits is a no-op; the others are each a new entry (the step is idempotent).
 */
export type AdvanceReason = "created" | "reconcile" | "cancel" | "trials-added" | "trial-ended";

export function advanceJobId(sweepId: string, reason: AdvanceReason): string {
  return reason === "created" || reason === "reconcile" ? `sweep-${sweepId}-${reason}` : `sweep-${sweepId}-${reason}-${Date.now()}`;
}

/** Queues one advance step of a sweep (apps/worker's advance-sweep: tell Optuna, ask new trials, end the sweep). */
export function enqueueSweepAdvance(sweepId: string, reason: AdvanceReason) {
  const payload: SweepJobPayload = { sweepId };
  return withTimeout(
    sweepQueue.add(SWEEP_JOB_NAME, payload, {
      jobId: advanceJobId(sweepId, reason),
      attempts: 3,
      backoff: { type: "exponential", delay: 2_000 },
      removeOnComplete: true,
      removeOnFail: true,
    }),
    3_000,
    "enqueue sweep advance",
  );
}

/** For steps that already took effect: a lost advance is only late, since the reconciler asks for one every minute. */
export function enqueueSweepAdvanceLater(sweepId: string, reason: AdvanceReason): Promise<void> {
  return enqueueSweepAdvance(sweepId, reason).then(
    () => undefined,
    (err: Error) => logger.warn({ err: { message: err.message }, sweepId, reason }, "sweep advance not queued; the reconciler asks again"),
  );
}
