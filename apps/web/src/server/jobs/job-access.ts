import "server-only";
import type { Permission } from "@wyolo/contracts";
import { db } from "../db";
import { projectAccess } from "../access";
import { AppError, notFound } from "../errors";
import type { SessionUser } from "../auth/session";

/** A job's project access; a job in a team the caller cannot see answers 404, like the project. */
export async function jobAccess(user: SessionUser, jobId: string, permission: Permission) {
  const job = await db.trainingJob.findUnique({
    where: { id: jobId },
    select: { id: true, projectId: true, createdById: true, status: true, task: true, name: true },
  });
  if (!job) throw notFound("Job not found");
  try {
    return { job, ...(await projectAccess(user, { id: job.projectId }, permission)) };
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND") throw notFound("Job not found");
    throw err;
  }
}
