import "server-only";
import { BULLMQ_PRIORITY, VALIDATE_DATASET_JOB, validationJobId, type ValidateDatasetPayload } from "@wyolo/contracts";
import { trainingQueue } from "../queue";
import { withTimeout } from "../timeout";

const DAY = 86_400;

/**
 * A version's validation on the training queue at the low training priority (a worker runs it
 * between trainings). jobId = validationJobId(version): a second add is a no-op, so a retried
 * completion never validates twice.
 */
export function enqueueValidation(versionId: string) {
  const payload: ValidateDatasetPayload = { versionId };
  return withTimeout(
    trainingQueue.add(VALIDATE_DATASET_JOB, payload, {
      jobId: validationJobId(versionId),
      priority: BULLMQ_PRIORITY.low,
      attempts: 3,
      backoff: { type: "exponential", delay: 5_000 },
      removeOnComplete: { age: 7 * DAY, count: 5_000 },
      removeOnFail: { age: 30 * DAY, count: 20_000 },
    }),
    3_000,
    "enqueue",
  );
}
