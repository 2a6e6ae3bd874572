import "server-only";
import { SWEEP_TERMINAL_STATUSES, type SweepSettings } from "@wyolo/contracts";
import { db } from "../db";
import { AppError } from "../errors";
import { emitSweepUpdated } from "../realtime/emitter";
import type { SessionUser } from "../auth/session";
import { lifecycle } from "../jobs/lifecycle";
import { enqueueSweepAdvanceLater } from "./enqueue-advance";
import { sweepUpdateAccess } from "./sweep-access";
import { audit as writeAudit } from "../audit";
import { sweepSummary } from "./sweep-summary";

/** Optuna's study of a sweep may grow to this many trials in all. */
export const MAX_SWEEP_TRIALS = 1000;

/**
 * "Add N trials": the budget grows by `count`, a pending cancel is dropped and a passed deadline
 * starts again; an ended sweep goes back to RUNNING in the same study. Then an advance step asks
 * the new trials.
 */
export async function addTrials(user: SessionUser, sweepId: string, count: number, ip: string) {
  const { team } = await sweepUpdateAccess(user, sweepId);
  const audit = { actorId: user.id, action: "sweep.add_trials", teamId: team.id, ip };
  const fits = { nTrials: { lte: MAX_SWEEP_TRIALS - count } };
  // The advance step may end the sweep between the read and the write: then the other branch applies.
  for (let attempt = 0; attempt < 2; attempt++) {
    const current = await db.sweep.findUniqueOrThrow({
      where: { id: sweepId },
      select: { status: true, nTrials: true, deadlineAt: true, settings: true },
    });
    // A sweep past its `timeout` gets a new one from now: else its new trials could never start.
    const timeout = (current.settings as unknown as SweepSettings).timeout;
    const expired = current.deadlineAt !== null && current.deadlineAt <= new Date();
    const data = {
      nTrials: { increment: count },
      cancelRequestedAt: null,
      ...(expired ? { deadlineAt: timeout ? new Date(Date.now() + timeout * 1000) : null } : {}),
    };
    if (current.nTrials + count > MAX_SWEEP_TRIALS)
      throw new AppError("VALIDATION_FAILED", "Too many trials", {
        count: [
          `A sweep has at most ${MAX_SWEEP_TRIALS} trials; this one has ${current.nTrials}, so at most ${MAX_SWEEP_TRIALS - current.nTrials} more`,
        ],
      });
    if (SWEEP_TERMINAL_STATUSES.includes(current.status)) {
      const back = await lifecycle.transitionSweep({
        id: sweepId,
        to: "RUNNING",
        cause: "user",
        data: { ...data, finishedAt: null, failureReason: null },
        where: fits,
        audit,
      });
      if (back.applied) return done(sweepId);
    } else {
      const applied = await db.$transaction(async (tx) => {
        const { count: n } = await tx.sweep.updateMany({ where: { id: sweepId, status: { in: ["QUEUED", "RUNNING"] }, ...fits }, data });
        if (n) await writeAudit(tx, { ...audit, targetType: "sweep", targetId: sweepId });
        return n > 0;
      });
      if (applied) {
        const summary = await done(sweepId);
        emitSweepUpdated(summary);
        return summary;
      }
    }
  }
  throw new AppError("CONFLICT", "The sweep changed meanwhile; reload and try again");
}

async function done(sweepId: string) {
  await enqueueSweepAdvanceLater(sweepId, "trials-added");
  return sweepSummary(sweepId);
}
