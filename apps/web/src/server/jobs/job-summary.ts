import "server-only";
import type { JobSummary, Priority } from "@wyolo/contracts";

export const jobSummarySelect = {
  id: true,
  projectId: true,
  name: true,
  status: true,
  priority: true,
  model: true,
  task: true,
  currentEpoch: true,
  totalEpochs: true,
  progress: true,
  etaSeconds: true,
  bestMetric: true,
  bestMetricName: true,
  attempt: true,
  workerName: true,
  failureReason: true,
  createdAt: true,
  startedAt: true,
  finishedAt: true,
  cancelRequestedAt: true,
  heartbeatAt: true,
  mlflowExperimentId: true,
  mlflowRunId: true,
  trackingDelayed: true,
  createdBy: { select: { id: true, name: true } },
  sweepId: true,
  trialNumber: true,
  sweep: { select: { id: true, name: true } },
} as const;

type Row = {
  [K in Exclude<
    keyof typeof jobSummarySelect,
    | "createdBy"
    | "priority"
    | "createdAt"
    | "startedAt"
    | "finishedAt"
    | "cancelRequestedAt"
    | "heartbeatAt"
    | "sweepId"
    | "trialNumber"
    | "sweep"
  >]: JobSummary[K];
} & {
  /** Absent on a job just created from a submission: only sweeps' trials have them. */
  sweepId?: string | null;
  trialNumber?: number | null;
  sweep?: { id: string; name: string } | null;
  priority: "LOW" | "NORMAL" | "HIGH";
  createdBy: { id: string; name: string };
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  cancelRequestedAt: Date | null;
  heartbeatAt: Date | null;
};

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toJobSummary(row: Row): JobSummary {
  return {
    ...row,
    priority: row.priority.toLowerCase() as Priority,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    cancelRequestedAt: iso(row.cancelRequestedAt),
    heartbeatAt: iso(row.heartbeatAt),
    sweepId: row.sweepId ?? null,
    trialNumber: row.trialNumber ?? null,
    sweep: row.sweep ?? null,
  };
}
