import "server-only";
import { TERMINAL_STATUSES, WORKER_LOST_FAILURE, type JobStatus, type Priority } from "@wyolo/contracts";
import { db } from "../db";
import { AppError } from "../errors";
import { trainingQueue } from "../queue";
import { withTimeout } from "../timeout";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";
import { createJob } from "./create-job";
import { enqueueTraining } from "./enqueue";
import { jobSummarySelect, toJobSummary } from "./job-summary";
import { lifecycle } from "./lifecycle";
import { runIsDead, silentWhere } from "./run-liveness";

/**
 * A job that failed for losing its worker too often, or whose run is dead (on a worker by its
 * row, without a queue entry, its worker silent: runIsDead), is the same job again: it resumes
 * from its checkpoint. Any other ended job is retried as a new job with the same config and
 * priority; the old one stays. A sweep's trial is never retried: Optuna was (or is about to be)
 * told its end, and a second run under the same trial number would report into a finished trial.
 */
export async function retryJob(user: SessionUser, jobId: string, ip: string) {
  const { job, team } = await jobAccess(user, jobId, "job.create");
  const source = await db.trainingJob.findUniqueOrThrow({
    where: { id: jobId },
    select: { name: true, config: true, configSource: true, priority: true, projectId: true, failureClass: true, sweepId: true },
  });
  if (source.sweepId) throw new AppError("CONFLICT", "A sweep's trial is not retried; add trials to the sweep instead");
  const priority = source.priority.toLowerCase() as Priority;
  const audit = { actorId: user.id, action: "job.retry", teamId: team.id, ip };
  if (job.status === "FAILED" && source.failureClass === WORKER_LOST_FAILURE)
    return resume(user, jobId, priority, audit, { status: "FAILED", failureClass: WORKER_LOST_FAILURE });
  const onWorker = job.status === "STARTING" || job.status === "RUNNING";
  if (onWorker && (await runIsDead(jobId)))
    return resume(user, jobId, priority, audit, { status: { in: ["STARTING", "RUNNING"] as JobStatus[] }, ...silentWhere() });
  if (!TERMINAL_STATUSES.includes(job.status))
    throw new AppError("CONFLICT", "The job is still active; cancel it first or wait for it to end");
  return createJob(
    user,
    source.projectId,
    {
      name: `${source.name.replace(/ \(retry( \d+)?\)$/, "")} (retry)`.slice(0, 120),
      priority,
      config: source.configSource ?? (source.config as Record<string, unknown>),
      retryOfId: jobId,
    },
    ip,
  );
}

/** Back to QUEUED (its worker-loss count starts again) and into the queue; a worker resumes it from its checkpoint. */
async function resume(
  user: SessionUser,
  jobId: string,
  priority: Priority,
  audit: { actorId: string; action: string; teamId: string; ip: string },
  where: { status: JobStatus | { in: JobStatus[] }; failureClass?: string } & Partial<ReturnType<typeof silentWhere>>,
) {
  const back = await lifecycle.transition({
    kind: "training",
    id: jobId,
    to: "QUEUED",
    cause: "user",
    where,
    data: { failureReason: null, failureClass: null, logTail: null, finishedAt: null, etaSeconds: null },
    entry: { kind: "retried", message: `Retried by ${user.name}; it resumes from its checkpoint` },
    audit,
  });
  if (!back.applied) throw new AppError("CONFLICT", "The job changed meanwhile; reload it and try again");
  // The entry under the job's id may still be there, finished: adding would then be a no-op.
  const entry = await withTimeout(trainingQueue.getJob(jobId), 3_000, "queue lookup");
  const state = entry ? await entry.getState() : "unknown";
  if (entry && (state === "completed" || state === "failed")) await entry.remove();
  // One still waiting (or being picked up) runs it already.
  if (!entry || state === "completed" || state === "failed" || state === "unknown") await enqueueTraining(jobId, priority);
  const job = toJobSummary(await db.trainingJob.findUniqueOrThrow({ where: { id: jobId }, select: jobSummarySelect }));
  return { job, warnings: [] as string[] };
}
