import "server-only";
import { BULLMQ_PRIORITY, TRAIN_JOB_NAME, type Priority, type TrainJobPayload } from "@wyolo/contracts";
import { trainingQueue } from "../queue";
import { withTimeout } from "../timeout";

const DAY = 86_400;

/**
 * The queue entry for a job row: jobId = row id, so a double add is a no-op. Retries (with
 * backoff) cover infrastructure failures only; the worker fails trainer errors for good.
 */
export function enqueueTraining(jobId: string, priority: Priority) {
  const payload: TrainJobPayload = { jobId };
  return withTimeout(
    trainingQueue.add(TRAIN_JOB_NAME, payload, {
      jobId,
      priority: BULLMQ_PRIORITY[priority],
      attempts: 5,
      backoff: { type: "exponential", delay: 5_000 },
      removeOnComplete: { age: 7 * DAY, count: 5_000 },
      removeOnFail: { age: 30 * DAY, count: 20_000 },
    }),
    3_000,
    "enqueue",
  );
}
