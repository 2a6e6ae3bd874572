import "server-only";
import { CANCEL_CHANNEL, can, grantAllows, scopeFor, TERMINAL_STATUSES, type JobStatus, type JobSummary } from "@wyolo/contracts";
import { db } from "../db";
import { AppError, forbidden } from "../errors";
import { logger } from "../logger";
import { redis } from "../redis";
import { trainingQueue } from "../queue";
import { withTimeout } from "../timeout";
import { emitJobUpdated } from "../realtime/emitter";
import { lifecycle } from "./lifecycle";
import { runIsDead, silentWhere } from "./run-liveness";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";
import { allows } from "../access";
import { jobSummarySelect, toJobSummary } from "./job-summary";

/**
 * Queued → removed from the queue and CANCELLED at once. Starting/running → the worker that
 * holds it is told (Redis pub/sub; it also checks the row at every epoch), stops the trainer at
 * the next epoch boundary and kills it after a timeout; the job ends CANCELLED. One whose run is
 * dead (no queue entry, its worker silent: runIsDead) is CANCELLED at once; one without an entry
 * whose worker was heard from lately is a 409 until it is dead.
 */
export async function cancelJob(user: SessionUser, jobId: string, ip: string) {
  const access = await jobAccess(user, jobId, "job.read");
  const { job, role, team } = access;
  const allowed = allows(access, "job.cancel.any") || (job.createdById === user.id && allows(access, "job.cancel.own"));
  if (!allowed) {
    if (!grantAllows(access.grant, "job.cancel.own")) throw forbidden(`This token lacks the "${scopeFor("job.cancel.own")}" scope`);
    throw forbidden(can(role, "job.cancel.own") ? "You can cancel only your own jobs" : "Your role does not allow this");
  }
  if (TERMINAL_STATUSES.includes(job.status)) throw new AppError("CONFLICT", `The job already ended (${job.status.toLowerCase()})`);

  return cancelActiveJob(jobId, job.status, user, { actorId: user.id, action: "job.cancel", teamId: team.id, ip });
}

type CancelAudit = { actorId: string; action: string; teamId: string; ip: string };

/**
 * The cancel itself, for a job whose permission was checked (a job's own cancel, or a sweep's
 * cancel for each of its active trials).
 */
export async function cancelActiveJob(jobId: string, status: JobStatus, user: { name: string }, audit: CancelAudit): Promise<JobSummary> {
  if (status === "QUEUED") {
    const queued = await withTimeout(trainingQueue.getJob(jobId), 3_000, "queue lookup");
    // remove() refuses a job a worker has locked: then it is running, and the running path applies.
    const removed = queued
      ? await queued.remove().then(
          () => true,
          () => false,
        )
      : true;
    if (removed) {
      const now = new Date();
      const cancelled = await lifecycle.transition({
        kind: "training",
        id: jobId,
        to: "CANCELLED",
        cause: "user",
        data: { cancelRequestedAt: now, finishedAt: now },
        entry: { kind: "cancelled", message: `Cancelled by ${user.name} while queued` },
        audit,
      });
      if (cancelled.applied) return summary(jobId);
    }
  }

  // No queue entry and a silent worker, so no worker holds it (one that loses its lock stops its
  // trainer within its lock duration): nobody else would ever end it.
  if (status !== "QUEUED" && (await runIsDead(jobId))) {
    const now = new Date();
    const cancelled = await lifecycle.transition({
      kind: "training",
      id: jobId,
      to: "CANCELLED",
      cause: "user",
      where: silentWhere(now),
      data: { cancelRequestedAt: now, finishedAt: now, etaSeconds: null },
      entry: { kind: "cancelled", message: `Cancelled by ${user.name}; its run had no queue entry and no worker` },
      audit,
    });
    if (cancelled.applied) return summary(jobId);
  }

  // Not a status change: the worker holding the job ends it (CANCELLED) at the next epoch boundary.
  await db.trainingJob.updateMany({ where: { id: jobId, cancelRequestedAt: null }, data: { cancelRequestedAt: new Date() } });
  await redis
    .publish(CANCEL_CHANNEL, jobId)
    .catch((err: Error) =>
      logger.warn({ err: { message: err.message }, jobId }, "cancel not published; the worker sees it at the next epoch"),
    );
  await lifecycle.note(
    jobId,
    { kind: "cancel_requested", message: `Cancel requested by ${user.name}; stopping at the next epoch boundary` },
    audit,
  );
  const requested = await summary(jobId);
  emitJobUpdated(requested);
  return requested;
}

async function summary(jobId: string) {
  return toJobSummary(await db.trainingJob.findUniqueOrThrow({ where: { id: jobId }, select: jobSummarySelect }));
}
