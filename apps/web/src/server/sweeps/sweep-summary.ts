import "server-only";
import { ACTIVE_STATUSES, type Priority, type SweepSettings, type SweepSummary, type SweepTrialCounts } from "@wyolo/contracts";
import type { Prisma } from "@wyolo/db";
import { db } from "../db";

export const sweepSummarySelect = {
  id: true,
  projectId: true,
  name: true,
  status: true,
  priority: true,
  nTrials: true,
  parallel: true,
  settings: true,
  bestValue: true,
  bestTrialNumber: true,
  bestJobId: true,
  failureReason: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  deadlineAt: true,
  cancelRequestedAt: true,
  mlflowExperimentId: true,
  mlflowRunId: true,
  createdBy: { select: { id: true, name: true } },
} as const satisfies Prisma.SweepSelect;

type Row = Prisma.SweepGetPayload<{ select: typeof sweepSummarySelect }>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);
export const NO_TRIALS: SweepTrialCounts = { total: 0, active: 0, complete: 0, pruned: 0, failed: 0 };

export function toSweepSummary(row: Row, counts: SweepTrialCounts = NO_TRIALS): SweepSummary {
  const settings = row.settings as unknown as SweepSettings;
  return {
    id: row.id,
    projectId: row.projectId,
    name: row.name,
    status: row.status,
    priority: row.priority.toLowerCase() as Priority,
    nTrials: row.nTrials,
    parallel: row.parallel,
    direction: settings.direction,
    objective: settings.objective,
    sampler: settings.sampler,
    pruner: settings.pruner,
    counts,
    bestValue: row.bestValue,
    bestTrialNumber: row.bestTrialNumber,
    bestJobId: row.bestJobId,
    failureReason: row.failureReason,
    createdBy: row.createdBy,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    deadlineAt: iso(row.deadlineAt),
    cancelRequestedAt: iso(row.cancelRequestedAt),
    mlflowExperimentId: row.mlflowExperimentId,
    mlflowRunId: row.mlflowRunId,
  };
}

/**
 * The trial counts of several sweeps in one grouped query: `active` by the job's status,
 * complete/pruned/failed by what Optuna was told (a trial that ended but is not told yet counts in `total` only).
 */
export async function trialCounts(sweepIds: string[]): Promise<Map<string, SweepTrialCounts>> {
  const counts = new Map<string, SweepTrialCounts>(sweepIds.map((id) => [id, { ...NO_TRIALS }]));
  if (!sweepIds.length) return counts;
  const groups = await db.trainingJob.groupBy({
    by: ["sweepId", "status", "trialState"],
    where: { sweepId: { in: sweepIds } },
    _count: { _all: true },
  });
  for (const g of groups) {
    const c = counts.get(g.sweepId!);
    if (!c) continue;
    const n = g._count._all;
    c.total += n;
    if (ACTIVE_STATUSES.includes(g.status)) c.active += n;
    if (g.trialState === "COMPLETE") c.complete += n;
    else if (g.trialState === "PRUNED") c.pruned += n;
    else if (g.trialState === "FAIL") c.failed += n;
  }
  return counts;
}

/** One sweep's summary as it is now (after a change). */
export async function sweepSummary(sweepId: string): Promise<SweepSummary> {
  const row = await db.sweep.findUniqueOrThrow({ where: { id: sweepId }, select: sweepSummarySelect });
  return toSweepSummary(row, (await trialCounts([sweepId])).get(sweepId));
}
