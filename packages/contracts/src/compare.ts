import { z } from "zod";
import type { JobStatus } from "./jobs.ts";
import type { ClassMetrics } from "./trainer-protocol.ts";

/** How many jobs one compare call takes (the page's selection, a shareable URL). */
export const COMPARE_MIN_JOBS = 2;
export const COMPARE_MAX_JOBS = 20;
const ID = /^[a-zA-Z0-9_-]{1,64}$/;

/** `?jobs=<id>,<id>…`: 2–20 distinct job ids, in the order the columns show them. */
export const compareQuerySchema = z.object({
  jobs: z
    .string({ error: "Name the jobs to compare: ?jobs=<id>,<id>" })
    .max(COMPARE_MAX_JOBS * 65)
    .transform((s) => [
      ...new Set(
        s
          .split(",")
          .map((id) => id.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z
        .array(z.string())
        .min(COMPARE_MIN_JOBS, `Compare at least ${COMPARE_MIN_JOBS} different jobs`)
        .max(COMPARE_MAX_JOBS, `Compare at most ${COMPARE_MAX_JOBS} jobs`)
        .refine((ids) => ids.every((id) => ID.test(id)), "Job ids are letters, digits, - and _, comma-separated"),
    ),
});

export const LEADERBOARD_MAX_LIMIT = 200;

/** `?metric=<key>&limit=`: without a metric, the project's headline metric. */
export const leaderboardQuerySchema = z.object({
  metric: z.string().trim().min(1).max(200).optional(),
  limit: z.coerce.number().int().min(1).max(LEADERBOARD_MAX_LIMIT).default(50),
});

/** Losses (train and val) are better lower; every other recorded metric higher. lr ranks nothing either way: treated as higher. */
export const lowerIsBetter = (metric: string) => /loss/i.test(metric);

/** A flattened config value: the table shows scalars; lists and mappings as their JSON. */
export type ParamValue = string | number | boolean | null;

export type CompareJob = {
  id: string;
  name: string;
  project: { id: string; name: string; slug: string };
  status: JobStatus;
  model: string;
  task: string;
  /** `shapes@v3` for a dataset version, else the config's `train.data` path. */
  dataset: string | null;
  sweep: { id: string; name: string; trialNumber: number | null } | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  durationSeconds: number | null;
  /** GPUs the job used (its resource samples, else its config's `gpus`; 0 on CPU); null when nothing says. */
  gpus: number | null;
  gpuHours: number | null;
  best: { name: string; value: number; epoch: number } | null;
  /** Epochs recorded (the last one's number). */
  epochs: number;
  totalEpochs: number;
};

/** Per metric key (`metrics/mAP50-95(B)`, `val/box_loss`, `train/box_loss`, `lr/pg0`…), per job id: [epoch, value] in epoch order. */
export type CompareSeries = Record<string, Record<string, [number, number | null][]>>;

export type CompareAnswer = {
  jobs: CompareJob[];
  /** Per job id: the flattened config (train arguments by their own name, plus model, task, gpus…). */
  params: Record<string, Record<string, ParamValue>>;
  /** Param keys whose value is not the same in every job (a missing key counts as null). */
  differing: string[];
  /** Per job id: every recorded value of its last epoch. */
  final: Record<string, Record<string, number | null>>;
  /** Per job id: every recorded value of its best epoch (`jobs[].best.epoch`). */
  best: Record<string, Record<string, number | null>>;
  /** Per job id: the final validation's per-class metrics, null when the trainer sent none. */
  classMetrics: Record<string, ClassMetrics[] | null>;
  series: CompareSeries;
};

export type LeaderboardRow = {
  rank: number;
  id: string;
  name: string;
  model: string;
  task: string;
  sweep: { id: string; name: string; trialNumber: number | null } | null;
  /** The metric at the job's best epoch (the epoch of best.pt; the last one when none is known). */
  value: number | null;
  epoch: number | null;
  args: { epochs: number | null; imgsz: number | null; batch: number | null; lr0: number | null; optimizer: string | null };
  durationSeconds: number | null;
  gpus: number | null;
  gpuHours: number | null;
  finishedAt: string | null;
};

export type LeaderboardAnswer = {
  metric: string;
  /** "asc" for losses (lower is better), else "desc". */
  order: "asc" | "desc";
  /** Metrics recorded at the best epoch of any finished job of the project. */
  metrics: string[];
  /** Finished (SUCCEEDED) jobs of the project; `rows` holds the first `limit` of them by the metric. */
  total: number;
  rows: LeaderboardRow[];
};

/** Config keys that are not training arguments (bookkeeping, the old service's infrastructure blocks). */
const NOT_PARAMS = new Set(["metadata", "sweeper", "logging", "mlflow", "minio", "redis", "task_id"]);

/**
 * A stored config flattened for the params table: `train.*` by the argument's own name (`lr0`), other
 * top-level keys as they are (`model`, `task`, `gpus`), nested mappings dotted, lists as JSON.
 */
export function flattenParams(config: unknown): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = {};
  const put = (key: string, value: unknown) => {
    if (value === undefined) return;
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) put(`${key}.${k}`, v);
    } else if (Array.isArray(value)) out[key] = JSON.stringify(value);
    else out[key] = value as ParamValue;
  };
  if (!config || typeof config !== "object") return out;
  for (const [key, value] of Object.entries(config)) {
    if (NOT_PARAMS.has(key)) continue;
    if (key === "train" && value && typeof value === "object" && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) put(k, v);
    } else put(key, value);
  }
  return out;
}

/** The keys whose value differs between the jobs (sorted). */
export function differingKeys(params: Record<string, ParamValue>[]): string[] {
  const keys = new Set(params.flatMap((p) => Object.keys(p)));
  return [...keys].filter((k) => new Set(params.map((p) => JSON.stringify(p[k] ?? null))).size > 1).sort();
}

/** The series groups the compare page shows, in order: by the key's prefix. */
export function metricGroup(key: string): "metrics" | "val" | "train" | "lr" | "other" {
  if (key.startsWith("metrics/")) return "metrics";
  if (key.startsWith("val/")) return "val";
  if (key.startsWith("train/")) return "train";
  if (key.startsWith("lr/")) return "lr";
  return "other";
}

/** The metrics a compare page charts first: mAP50-95 (or top-1) and the validation losses. */
export function defaultCompareMetrics(keys: readonly string[]): string[] {
  const headline = ["metrics/mAP50-95(M)", "metrics/mAP50-95(P)", "metrics/mAP50-95(B)", "metrics/accuracy_top1"].filter((k) =>
    keys.includes(k),
  );
  const val = keys.filter((k) => k.startsWith("val/")).sort();
  return [...headline, ...val];
}
