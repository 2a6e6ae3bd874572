import "server-only";
import { applyTrialParams, type Priority, type SweepSettings, type TrainingConfig } from "@wyolo/contracts";
import { db } from "../db";
import { AppError } from "../errors";
import type { SessionUser } from "../auth/session";
import { createJob } from "../jobs/create-job";
import { sweepAccess } from "./sweep-access";

/**
 * "Train the best": a normal training job from the sweep's base config with the best completed
 * trial's arguments (by the trials' own values, so it never lags behind the advance step).
 */
export async function trainBest(user: SessionUser, sweepId: string, ip: string) {
  await sweepAccess(user, sweepId, "job.create");
  const sweep = await db.sweep.findUniqueOrThrow({
    where: { id: sweepId },
    select: { name: true, projectId: true, priority: true, config: true, settings: true },
  });
  const { direction } = sweep.settings as unknown as SweepSettings;
  const best = await db.trainingJob.findFirst({
    where: { sweepId, trialState: "COMPLETE", trialValue: { not: null } },
    orderBy: [{ trialValue: direction === "maximize" ? "desc" : "asc" }, { trialNumber: "asc" }],
    select: { trialNumber: true, trialParams: true },
  });
  if (!best) throw new AppError("CONFLICT", "No trial of this sweep has completed yet");
  const base = sweep.config as unknown as TrainingConfig;
  const config = applyTrialParams(base, (best.trialParams ?? {}) as Record<string, unknown>);
  config.metadata = { ...base.metadata, sweep_id: sweepId, from_trial: best.trialNumber };
  const suffix = ` · best (#${best.trialNumber})`;
  const created = await createJob(
    user,
    sweep.projectId,
    {
      name: sweep.name.slice(0, 120 - suffix.length) + suffix,
      priority: sweep.priority.toLowerCase() as Priority,
      config: config as unknown as Record<string, unknown>,
    },
    ip,
  );
  return created;
}
