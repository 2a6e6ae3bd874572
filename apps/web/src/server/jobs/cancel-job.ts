import "server-only";
import { CANCEL_CHANNEL, can, TERMINAL_STATUSES } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import { AppError, forbidden } from "../errors";
import { logger } from "../logger";
import { redis } from "../redis";
import { trainingQueue } from "../queue";
import { withTimeout } from "../timeout";
import { emitJobEvent, emitJobUpdated } from "../realtime/emitter";
import type { SessionUser } from "../auth/session";
import { jobAccess } from "./job-access";
import { jobSummarySelect, toJobSummary } from "./job-summary";

/**
 * Queued → removed from the queue and CANCELLED at once. Starting/running → the worker that
 * holds it is told (Redis pub/sub; it also checks the row at every epoch), stops the trainer at
 * the next epoch boundary and kills it after a timeout; the job ends CANCELLED.
 */
export async function cancelJob(user: SessionUser, jobId: string, ip: string) {
  const { job, role, team } = await jobAccess(user, jobId, "job.read");
  const allowed = can(role, "job.cancel.any") || (job.createdById === user.id && can(role, "job.cancel.own"));
  if (!allowed) throw forbidden(can(role, "job.cancel.own") ? "You can cancel only your own jobs" : "Your role does not allow this");
  if (TERMINAL_STATUSES.includes(job.status)) throw new AppError("CONFLICT", `The job already ended (${job.status.toLowerCase()})`);

  if (job.status === "QUEUED") {
    const queued = await withTimeout(trainingQueue.getJob(jobId), 3_000, "queue lookup");
    // remove() refuses a job a worker has locked: then it is running, and the running path applies.
    const removed = queued ? await queued.remove().then(() => true, () => false) : true;
    if (removed) {
      const { count } = await db.trainingJob.updateMany({
        where: { id: jobId, status: "QUEUED" },
        data: { status: "CANCELLED", cancelRequestedAt: new Date(), finishedAt: new Date() },
      });
      if (count === 1) return finish(user, jobId, team.id, ip, "cancelled", `Cancelled by ${user.name} while queued`);
    }
  }

  await db.trainingJob.updateMany({ where: { id: jobId, cancelRequestedAt: null }, data: { cancelRequestedAt: new Date() } });
  await redis.publish(CANCEL_CHANNEL, jobId).catch((err: Error) => logger.warn({ err: { message: err.message }, jobId }, "cancel not published; the worker sees it at the next epoch"));
  return finish(user, jobId, team.id, ip, "cancel_requested", `Cancel requested by ${user.name}; stopping at the next epoch boundary`);
}

async function finish(user: SessionUser, jobId: string, teamId: string, ip: string, kind: string, message: string) {
  const [row, event] = await db.$transaction(async (tx) => {
    const event = await tx.jobEvent.create({ data: { jobId, kind, message }, select: { id: true, kind: true, message: true, createdAt: true } });
    await audit(tx, { actorId: user.id, action: "job.cancel", targetType: "job", targetId: jobId, teamId, ip });
    return [await tx.trainingJob.findUniqueOrThrow({ where: { id: jobId }, select: jobSummarySelect }), event] as const;
  });
  const summary = toJobSummary(row);
  emitJobUpdated(summary);
  emitJobEvent(jobId, { ...event, createdAt: event.createdAt.toISOString() });
  return summary;
}
