import "server-only";
import { ACTIVE_STATUSES, SWEEP_TERMINAL_STATUSES } from "@wyolo/contracts";
import { db } from "../db";
import { AppError } from "../errors";
import { logger } from "../logger";
import { emitSweepUpdated } from "../realtime/emitter";
import type { SessionUser } from "../auth/session";
import { cancelActiveJob } from "../jobs/cancel-job";
import { enqueueSweepAdvanceLater } from "./enqueue-advance";
import { sweepUpdateAccess } from "./sweep-access";
import { audit as writeAudit } from "../audit";
import { sweepSummary } from "./sweep-summary";

/**
 * Marks the sweep cancel-requested (the advance step asks no new trial from then on), cancels
 * each active trial through the job cancel path, then asks an advance step, which ends the sweep
 * CANCELLED once no trial is active. Asking again while it winds down cancels what is left.
 */
export async function cancelSweep(user: SessionUser, sweepId: string, ip: string) {
  const { sweep, team } = await sweepUpdateAccess(user, sweepId);
  if (SWEEP_TERMINAL_STATUSES.includes(sweep.status))
    throw new AppError("CONFLICT", `The sweep already ended (${sweep.status.toLowerCase()})`);
  const marked = await db.$transaction(async (tx) => {
    // The first request's time stays.
    const count = await tx.$executeRaw`
      UPDATE "Sweep" SET "cancelRequestedAt" = COALESCE("cancelRequestedAt", now()), "updatedAt" = now()
      WHERE "id" = ${sweepId} AND "status" IN ('QUEUED', 'RUNNING')`;
    if (count)
      await writeAudit(tx, { actorId: user.id, action: "sweep.cancel", targetType: "sweep", targetId: sweepId, teamId: team.id, ip });
    return count > 0;
  });
  if (!marked) throw new AppError("CONFLICT", "The sweep ended meanwhile");

  const active = await db.trainingJob.findMany({
    where: { sweepId, status: { in: [...ACTIVE_STATUSES] } },
    select: { id: true, status: true },
    orderBy: { trialNumber: "asc" },
  });
  const audit = { actorId: user.id, action: "job.cancel", teamId: team.id, ip };
  for (const job of active) {
    // A trial whose run is in doubt (no queue entry, its worker heard from lately) is left for a
    // later Cancel, as a job's own Cancel answers 409 then; the others are cancelled meanwhile.
    await cancelActiveJob(job.id, job.status, user, audit).catch((err: unknown) => {
      if (!(err instanceof AppError && err.code === "CONFLICT")) throw err;
      logger.warn({ sweepId, jobId: job.id, reason: err.message }, "trial not cancelled yet");
    });
  }

  await enqueueSweepAdvanceLater(sweepId, "cancel");
  const summary = await sweepSummary(sweepId);
  emitSweepUpdated(summary);
  return summary;
}
