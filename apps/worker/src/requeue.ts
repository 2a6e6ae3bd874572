import { DelayedError, type Job } from "bullmq";

/** Puts the queue entry back for `ms` (this or another worker takes it then) and ends this run of it. */
export async function requeueLater(job: Job, token: string | undefined, ms: number): Promise<never> {
  await job.moveToDelayed(Date.now() + ms, token);
  throw new DelayedError();
}
