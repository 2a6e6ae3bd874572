import "server-only";
import {
  objectiveValue,
  type SweepDetail,
  type SweepSettings,
  type SweepTrialRow,
  type TrainingConfig,
  type TrialState,
} from "@wyolo/contracts";
import { db } from "../db";
import type { SessionUser } from "../auth/session";
import { sweepAccess } from "./sweep-access";
import { sweepSummarySelect, toSweepSummary, trialCounts } from "./sweep-summary";

type EpochValue = { jobId: string; epoch: number; value: unknown };
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** A sweep with its trials, each with its objective per epoch (from the recorded epochs), and the config text it was submitted as. */
export async function getSweep(user: SessionUser, sweepId: string): Promise<SweepDetail & { configSource: string | null }> {
  await sweepAccess(user, sweepId, "job.read");
  const row = await db.sweep.findUniqueOrThrow({
    where: { id: sweepId },
    select: { ...sweepSummarySelect, config: true, configSource: true, importances: true },
  });
  const settings = row.settings as unknown as SweepSettings;
  const jobs = await db.trainingJob.findMany({
    where: { sweepId },
    orderBy: { trialNumber: "asc" },
    select: {
      id: true,
      name: true,
      status: true,
      trialNumber: true,
      trialParams: true,
      trialState: true,
      trialValue: true,
      prunedAtEpoch: true,
      startedAt: true,
      finishedAt: true,
    },
  });
  // Only the objective of each epoch is read, not the whole metrics object of every epoch of every trial.
  const epochs = jobs.length
    ? await db.$queryRaw<EpochValue[]>`
        SELECT e."jobId", e."epoch", COALESCE(e."metrics" -> ${settings.objective}, e."losses" -> ${settings.objective}) AS "value"
        FROM "JobEpoch" e JOIN "TrainingJob" j ON j."id" = e."jobId"
        WHERE j."sweepId" = ${sweepId}
        ORDER BY e."jobId", e."epoch"`
    : [];
  const intermediate = new Map<string, [number, number][]>();
  for (const e of epochs) {
    const v = objectiveValue(settings.objective, { metrics: { [settings.objective]: e.value as number | null } });
    if (v !== null) (intermediate.get(e.jobId) ?? intermediate.set(e.jobId, []).get(e.jobId)!).push([e.epoch, v]);
  }
  const trials: SweepTrialRow[] = jobs
    .filter((j) => j.trialNumber !== null)
    .map((j) => ({
      number: j.trialNumber!,
      jobId: j.id,
      jobName: j.name,
      jobStatus: j.status,
      state: j.trialState as TrialState | null,
      params: (j.trialParams ?? {}) as Record<string, unknown>,
      value: j.trialValue,
      intermediate: intermediate.get(j.id) ?? [],
      prunedAtEpoch: j.prunedAtEpoch,
      startedAt: iso(j.startedAt),
      finishedAt: iso(j.finishedAt),
    }));
  const { config, configSource, importances, ...summary } = row;
  const detail: SweepDetail = {
    ...toSweepSummary(summary, (await trialCounts([sweepId])).get(sweepId)),
    settings,
    config: config as unknown as TrainingConfig,
    trials,
    importances: (importances ?? null) as Record<string, number> | null,
  };
  return { ...detail, configSource };
}
