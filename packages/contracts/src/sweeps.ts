import { z } from "zod";
import { idSchema } from "./schemas.ts";
import { jobNameSchema, PRIORITIES, type JobStatus, type Priority } from "./jobs.ts";
import type { SweepSettings, TrainingConfig } from "./training-config.ts";

/**
 * Hyperparameter sweeps: a study in Optuna (RDB storage in the platform's Postgres), each trial a
 * training job. Statuses of the sweep itself; a trial's state is what was told to Optuna.
 */
export const SWEEP_STATUSES = ["QUEUED", "RUNNING", "COMPLETED", "CANCELLED", "FAILED"] as const;
export type SweepStatus = (typeof SWEEP_STATUSES)[number];
export const SWEEP_TERMINAL_STATUSES: readonly SweepStatus[] = ["COMPLETED", "CANCELLED", "FAILED"];

/** Optuna's trial states as Wyolo records them; null on a trial job means "not told yet" (RUNNING in Optuna). */
export const TRIAL_STATES = ["COMPLETE", "PRUNED", "FAIL"] as const;
export type TrialState = (typeof TRIAL_STATES)[number];

/** The advance step of a sweep runs on its own queue next to the training queue, so it never waits for a GPU slot. */
export const SWEEP_JOB_NAME = "sweep-advance";
export const sweepQueueName = (trainingQueue: string) => `${trainingQueue}-sweeps`;
export const sweepJobPayloadSchema = z.object({ sweepId: idSchema });
export type SweepJobPayload = z.infer<typeof sweepJobPayloadSchema>;
/** Optuna's study of a sweep. */
export const optunaStudyName = (sweepId: string) => `wyolo-${sweepId}`;

/** `config`: the old service's config.yaml (text or mapping) with its `sweeper:` block; `tune` is implied. */
export const createSweepSchema = z.object({
  name: jobNameSchema.optional(),
  priority: z.enum(PRIORITIES).default("normal"),
  config: z.union([z.string().max(100_000), z.record(z.string(), z.unknown())]),
});
export const addTrialsSchema = z.object({ count: z.int().min(1, "At least 1").max(1000, "At most 1000") });

export type SweepTrialCounts = { total: number; active: number; complete: number; pruned: number; failed: number };

export type SweepSummary = {
  id: string;
  projectId: string;
  name: string;
  status: SweepStatus;
  priority: Priority;
  nTrials: number;
  parallel: number;
  direction: SweepSettings["direction"];
  objective: string;
  sampler: SweepSettings["sampler"];
  pruner: SweepSettings["pruner"];
  counts: SweepTrialCounts;
  bestValue: number | null;
  bestTrialNumber: number | null;
  bestJobId: string | null;
  failureReason: string | null;
  createdBy: { id: string; name: string };
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  deadlineAt: string | null;
  cancelRequestedAt: string | null;
  mlflowExperimentId: string | null;
  mlflowRunId: string | null;
};

export type SweepTrialRow = {
  number: number;
  jobId: string;
  jobName: string;
  jobStatus: JobStatus;
  /** Told to Optuna; null while the trial runs. */
  state: TrialState | null;
  params: Record<string, unknown>;
  value: number | null;
  /** The objective per epoch, [epoch, value], as reported to the pruner. */
  intermediate: [number, number][];
  prunedAtEpoch: number | null;
  startedAt: string | null;
  finishedAt: string | null;
};

export type SweepDetail = SweepSummary & {
  settings: SweepSettings;
  /** The base config each trial starts from (sampled arguments replace its `train` values). */
  config: TrainingConfig;
  trials: SweepTrialRow[];
  /** Optuna's parameter importances (share of the objective's variance), once enough trials completed. */
  importances: Record<string, number> | null;
};

/** A change of one trial, sent to the sweep's room: a new epoch value, or fields that changed. */
export type SweepTrialPatch = { sweepId: string; number: number } & (
  | { epoch: number; value: number }
  | Partial<Omit<SweepTrialRow, "number" | "intermediate">>
);

type NumberMap = Record<string, number | null | undefined>;

/**
 * A sweep's objective in one epoch: a metric (the recorder keeps Ultralytics' fitness as
 * `fitness` there) or a loss such as `val/box_loss`; null when the epoch did not record it.
 */
export function objectiveValue(objective: string, epoch: { metrics?: NumberMap | null; losses?: NumberMap | null }): number | null {
  for (const map of [epoch.metrics, epoch.losses]) {
    const v = map && Object.hasOwn(map, objective) ? map[objective] : undefined;
    if (typeof v === "number" && Number.isFinite(v)) return v;
  }
  return null;
}

/** A completed trial's value: its best epoch in the sweep's direction (the epoch best.pt holds when the objective is fitness). */
export function finalObjective(values: readonly number[], direction: "maximize" | "minimize"): number | null {
  if (!values.length) return null;
  return direction === "maximize" ? Math.max(...values) : Math.min(...values);
}
