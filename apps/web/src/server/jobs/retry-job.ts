import "server-only";
import { TERMINAL_STATUSES, type Priority } from "@wyolo/contracts";
import { db } from "../db";
import { AppError } from "../errors";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";
import { createJob } from "./create-job";

/** A new job with the same config and priority; the old one stays as it was. */
export async function retryJob(user: SessionUser, jobId: string, ip: string) {
  const { job } = await jobAccess(user, jobId, "job.create");
  if (!TERMINAL_STATUSES.includes(job.status)) throw new AppError("CONFLICT", "The job is still active; cancel it first or wait for it to end");
  const source = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId }, select: { name: true, config: true, configSource: true, priority: true, projectId: true } });
  return createJob(
    user,
    source.projectId,
    {
      name: `${source.name.replace(/ \(retry( \d+)?\)$/, "")} (retry)`.slice(0, 120),
      priority: source.priority.toLowerCase() as Priority,
      config: source.configSource ?? (source.config as Record<string, unknown>),
      retryOfId: jobId,
    },
    ip,
  );
}
