import "server-only";
import {
  bestEpochOf,
  differingKeys,
  flattenParams,
  type ClassMetrics,
  type CompareAnswer,
  type CompareJob,
  type CompareSeries,
  type JobStatus,
} from "@wyolo/contracts";
import { db } from "../db";
import { teamAccess } from "../access";
import { notFound } from "../errors";
import type { SessionUser } from "../auth/session";
import { iso, jobCost, type JobFactRow } from "./job-facts";
import { compareEpochsSql, compareJobsSql } from "./sql";

type JobRow = JobFactRow & {
  id: string;
  name: string;
  status: JobStatus;
  model: string;
  task: string;
  createdAt: Date;
  bestEpoch: number | null;
  bestMetric: number | null;
  bestMetricName: string | null;
  totalEpochs: number;
  classMetrics: ClassMetrics[] | null;
  sweepId: string | null;
  sweepName: string | null;
  trialNumber: number | null;
  projectId: string;
  projectName: string;
  projectSlug: string;
  dataset: string | null;
};

/** One row per job: `epochs` is JSON text, `[[epoch, losses, metrics, lr]…]` in epoch order (./sql.ts). */
type EpochsRow = { jobId: string; epochs: string };

const numeric = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);

/**
 * Compares 2–20 jobs of a team's projects. An id that is not a job of this team (unknown, another
 * team's) makes it 404 without saying which, so ids of other teams cannot be probed.
 */
export async function compareJobs(user: SessionUser, teamId: string, ids: string[]): Promise<CompareAnswer> {
  const { team } = await teamAccess(user, { id: teamId }, "job.read");
  const [rows, epochRows] = await Promise.all([
    db.$queryRaw<JobRow[]>(compareJobsSql(team.id, ids)),
    db.$queryRaw<EpochsRow[]>(compareEpochsSql(team.id, ids)),
  ]);
  if (rows.length !== ids.length) throw notFound("Some of these jobs were not found in this team");
  const byId = new Map(rows.map((r) => [r.id, r]));
  const ordered = ids.map((id) => byId.get(id)!);

  const series: CompareSeries = {};
  // Per job: epoch → every value of that epoch, for the final and best columns.
  const epochs = new Map<string, Map<number, Record<string, number | null>>>(ids.map((id) => [id, new Map()]));
  for (const row of epochRows) {
    for (const [epoch, ...maps] of JSON.parse(row.epochs) as [number, ...Record<string, unknown>[]][]) {
      const clean: Record<string, number | null> = {};
      // Later maps win on a shared key, as `losses || metrics || lr` would have it.
      for (const [key, raw] of Object.entries(Object.assign({}, ...maps) as Record<string, unknown>)) {
        const value = (clean[key] = numeric(raw));
        ((series[key] ??= {})[row.jobId] ??= []).push([epoch, value]);
      }
      epochs.get(row.jobId)!.set(epoch, clean);
    }
  }

  const jobs: CompareJob[] = [];
  const final: CompareAnswer["final"] = {};
  const best: CompareAnswer["best"] = {};
  const params: CompareAnswer["params"] = {};
  const classMetrics: CompareAnswer["classMetrics"] = {};
  for (const r of ordered) {
    const perEpoch = epochs.get(r.id)!;
    const last = perEpoch.size ? Math.max(...perEpoch.keys()) : 0;
    const stored = r.bestEpoch !== null && r.bestMetric !== null && r.bestMetricName !== null && perEpoch.has(r.bestEpoch);
    const bestOf = stored
      ? { name: r.bestMetricName!, value: r.bestMetric!, epoch: r.bestEpoch! }
      : bestEpochOf([...perEpoch].map(([epoch, metrics]) => ({ epoch, metrics })));
    jobs.push({
      id: r.id,
      name: r.name,
      project: { id: r.projectId, name: r.projectName, slug: r.projectSlug },
      status: r.status,
      model: r.model,
      task: r.task,
      dataset: r.dataset,
      sweep: r.sweepId ? { id: r.sweepId, name: r.sweepName ?? "", trialNumber: r.trialNumber } : null,
      createdAt: r.createdAt.toISOString(),
      startedAt: iso(r.startedAt),
      finishedAt: iso(r.finishedAt),
      ...jobCost(r),
      best: bestOf,
      epochs: last,
      totalEpochs: r.totalEpochs,
    });
    final[r.id] = perEpoch.get(last) ?? {};
    best[r.id] = bestOf ? (perEpoch.get(bestOf.epoch) ?? {}) : {};
    params[r.id] = flattenParams(r.config);
    classMetrics[r.id] = Array.isArray(r.classMetrics) ? r.classMetrics : null;
  }
  return { jobs, params, differing: differingKeys(ordered.map((r) => params[r.id]!)), final, best, classMetrics, series };
}
