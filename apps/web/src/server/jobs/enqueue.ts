import "server-only";
import {
  BULLMQ_PRIORITY,
  EXPORT_BULLMQ_PRIORITY,
  EXPORT_JOB_NAME,
  TRAIN_JOB_NAME,
  type ExportJobPayload,
  type Priority,
  type TrainJobPayload,
} from "@wyolo/contracts";
import { trainingQueue } from "../queue";
import { withTimeout } from "../timeout";

const DAY = 86_400;
/** Finished entries are kept a while for inspection, then trimmed. */
const RETENTION = { removeOnComplete: { age: 7 * DAY, count: 5_000 }, removeOnFail: { age: 30 * DAY, count: 20_000 } } as const;

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
      ...RETENTION,
    }),
    3_000,
    "enqueue",
  );
}

/** An export's queue entry: same queue as trainings, after every training waiting (low priority). */
export function enqueueExport(exportId: string) {
  const payload: ExportJobPayload = { exportId };
  return withTimeout(
    trainingQueue.add(EXPORT_JOB_NAME, payload, {
      jobId: exportId,
      priority: EXPORT_BULLMQ_PRIORITY,
      attempts: 3,
      backoff: { type: "exponential", delay: 5_000 },
      ...RETENTION,
    }),
    3_000,
    "enqueue",
  );
}
