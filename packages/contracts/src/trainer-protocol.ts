import { z } from "zod";

/**
 * The trainer protocol, version 1 (docs/trainer-protocol.md): one JSON object per line on the
 * trainer's event channel (file descriptor 3), never on stdout, which carries progress bars.
 */
export const TRAINER_PROTOCOL_VERSION = 1;

const metricMap = z.record(z.string().max(200), z.number().nullable());
const path = z.string().max(4096);

/**
 * PATH_NOT_ALLOWED: the job named a file outside its roots (WEIGHTS_DIR, DATASETS_DIR, its inputs), e.g. through a symlink.
 * DATASET_INVALID: the dataset is there but not in the layout the job's task trains from (the suggestion names that layout).
 */
export const FAILURE_CLASSES = [
  "OUT_OF_MEMORY",
  "DATASET_NOT_FOUND",
  "DATASET_INVALID",
  "INVALID_ARGUMENT",
  "PATH_NOT_ALLOWED",
  "INTERRUPTED",
  "UNKNOWN",
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

const base = { v: z.literal(TRAINER_PROTOCOL_VERSION), time: z.number().optional() };

const share = z.number().min(0).max(1).nullable();
const classScores = z.object({ p: share, r: share, map50: share, map50_95: share });
/**
 * One class of the final validation (Ultralytics' `validator.metrics`, per class index): the box
 * scores, and for segment/pose the mask or pose scores too. `images`/`instances` are validation counts.
 */
export const classMetricsSchema = z.object({
  id: z.int().min(0),
  name: z.string().max(200),
  images: z.int().min(0).nullable().optional(),
  instances: z.int().min(0).nullable().optional(),
  box: classScores.optional(),
  mask: classScores.optional(),
  pose: classScores.optional(),
  /** classify: the class's top-1 accuracy (its row of the confusion matrix). */
  top1: share.optional(),
});
export type ClassMetrics = z.infer<typeof classMetricsSchema>;

/**
 * Why AutoBatch's batch is what it is: `fits` (Ultralytics' estimate), `ceiling` (the estimate was above
 * AUTO_BATCH_MAX), `images` (above the training images), `profiled` (above the largest size that profiled
 * without running out of memory), `floor` (below 1), `cpu` (no CUDA GPU: Ultralytics' default),
 * `error` (profiling failed: Ultralytics' default).
 */
export const AUTO_BATCH_REASONS = ["fits", "ceiling", "images", "profiled", "floor", "cpu", "error"] as const;

export const trainerEventSchema = z.discriminatedUnion("type", [
  z.object({
    ...base,
    type: z.literal("started"),
    totalEpochs: z.int().min(1),
    /** 1-based epoch the run starts at (> 1 when resuming). */
    startEpoch: z.int().min(1).default(1),
    batch: z.number().optional(),
    device: z.string().max(200).optional(),
    args: z.record(z.string(), z.unknown()).optional(),
    dataset: z.record(z.string(), z.unknown()).optional(),
    resumed: z.boolean().optional(),
  }),
  z.object({
    ...base,
    type: z.literal("epoch"),
    /** 1-based, as in Ultralytics' results.csv. */
    epoch: z.int().min(1),
    totalEpochs: z.int().min(1),
    losses: metricMap.default({}),
    metrics: metricMap.default({}),
    lr: metricMap.default({}),
    epochTime: z.number().min(0).optional(),
    eta: z.number().min(0).nullable().optional(),
    fitness: z.number().nullable().optional(),
  }),
  z.object({ ...base, type: z.literal("checkpoint"), epoch: z.int().min(1), last: path.optional(), best: path.optional() }),
  z.object({
    ...base,
    type: z.literal("log"),
    level: z.enum(["debug", "info", "warning", "error"]).default("info"),
    message: z.string().max(10_000),
  }),
  z.object({
    ...base,
    type: z.literal("finished"),
    /**
     * `shutdown`: stopped for a worker shutdown, with a resumable checkpoint kept; not an end of
     * the job, which goes back to the queue. `completed`, `early_stopped` and `time_limit` end it as trained;
     * `pruned`: a sweep trial stopped by its pruner (stop request `prune`), an end as final as those.
     */
    reason: z.enum(["completed", "cancelled", "early_stopped", "time_limit", "shutdown", "pruned"]).default("completed"),
    best: path.optional(),
    last: path.optional(),
    bestEpoch: z.int().min(1).optional(),
    metrics: metricMap.optional(),
    resultsCsv: path.optional(),
    /** Per-class metrics of the final validation, by class id. */
    classes: z.array(classMetricsSchema).max(5000).optional(),
  }),
  /**
   * The batch AutoBatch chose for `batch: -1` or a fraction (before `started`, whose `batch` is the same).
   * `computed`: Ultralytics' estimate for `fraction` of the GPU's memory; `reason` says why `batch` differs from it.
   */
  z.object({
    ...base,
    type: z.literal("autobatch"),
    batch: z.int().min(1),
    reason: z.enum(AUTO_BATCH_REASONS),
    computed: z.int().nullable().optional(),
    fraction: z.number().gt(0).lt(1).optional(),
    memoryTotalGb: z.number().min(0).optional(),
    /** Share of the GPU's memory the chosen batch is predicted to take (Ultralytics' fit). */
    predictedShare: z.number().min(0).nullable().optional(),
    ceiling: z.int().min(1).optional(),
    images: z.int().min(0).optional(),
    device: z.string().max(200).optional(),
    error: z.string().max(1000).optional(),
  }),
  /** Export mode only: the exported model (a file; a directory output is zipped first). */
  z.object({ ...base, type: z.literal("exported"), format: z.string().max(50), file: path }),
  z.object({
    ...base,
    type: z.literal("failed"),
    errorClass: z.enum(FAILURE_CLASSES).default("UNKNOWN"),
    exceptionType: z.string().max(200).optional(),
    message: z.string().max(10_000),
    traceback: z.string().max(20_000).optional(),
    suggestion: z.string().max(1000).optional(),
  }),
]);

export type TrainerEvent = z.infer<typeof trainerEventSchema>;
export type EpochEvent = Extract<TrainerEvent, { type: "epoch" }>;

export type ParsedLine = { ok: true; event: TrainerEvent } | { ok: false; error: string };

/** Parses one line of the event channel. Never throws: a malformed line is reported, not fatal. */
export function parseTrainerLine(line: string): ParsedLine {
  if (line.length > 1_000_000) return { ok: false, error: "line longer than 1 MB" };
  let data: unknown;
  try {
    data = JSON.parse(line);
  } catch {
    return { ok: false, error: "not JSON" };
  }
  const result = trainerEventSchema.safeParse(data);
  if (!result.success)
    return { ok: false, error: result.error.issues.map((i) => `${i.path.join(".") || "event"}: ${i.message}`).join("; ") };
  return { ok: true, event: result.data };
}

/**
 * A task's headline metric, the first of these present: segment reports box and mask mAP, pose box and
 * pose mAP, so their own comes first; classify reports top-1; detect, obb and RT-DETR box mAP50-95.
 */
export const HEADLINE_METRIC_KEYS = ["metrics/mAP50-95(M)", "metrics/mAP50-95(P)", "metrics/accuracy_top1", "metrics/mAP50-95(B)"] as const;

const finite = (v: number | null | undefined): v is number => typeof v === "number" && Number.isFinite(v);

/** The metric a job shows as its "best" for one epoch's metrics (higher is better); null when none is there. */
export function headlineMetric(metrics: Record<string, number | null>): { name: string; value: number } | null {
  for (const key of HEADLINE_METRIC_KEYS) {
    const value = metrics[key];
    if (finite(value)) return { name: key, value };
  }
  return null;
}

/**
 * Ultralytics 8.3's fitness, computed from an epoch's metrics (its metrics.py): 0.1·mAP50 + 0.9·mAP50-95
 * for boxes, plus the same of the masks (segment) or keypoints (pose); classify (top-1 + top-5) / 2.
 * A missing value counts 0, as Ultralytics' nan_to_num does. Null without any metric of a task.
 */
export function taskFitness(metrics: Record<string, number | null>): number | null {
  const v = (key: string) => (finite(metrics[key]) ? metrics[key] : 0);
  if (finite(metrics["metrics/accuracy_top1"])) return (v("metrics/accuracy_top1") + v("metrics/accuracy_top5")) / 2;
  const part = (s: string) =>
    finite(metrics[`metrics/mAP50-95(${s})`]) || finite(metrics[`metrics/mAP50(${s})`])
      ? 0.1 * v(`metrics/mAP50(${s})`) + 0.9 * v(`metrics/mAP50-95(${s})`)
      : null;
  const parts = ["B", "M", "P"].map(part).filter(finite);
  return parts.length ? parts.reduce((a, b) => a + b, 0) : null;
}

export type BestEpoch = { name: string; value: number; epoch: number };

/**
 * The job's best: the epoch whose weights are best.pt, with its headline metric. Ultralytics keeps
 * best.pt for the highest fitness, replacing it on a tie (`best_fitness == fitness` after `<`), so the
 * LAST epoch of the highest fitness wins. Each epoch's fitness is the trainer's own (`fitness`, stored
 * with the metrics) when every candidate has it, else computed from the metrics for all (one source
 * per comparison: a row rebuilt from results.csv has no `fitness`). Candidates are the epochs that
 * report the headline metric of the latest epoch reporting one.
 */
export function bestEpochOf(epochs: { epoch: number; metrics: Record<string, number | null> }[]): BestEpoch | null {
  const sorted = [...epochs].sort((a, b) => a.epoch - b.epoch);
  const latest = sorted.findLast((e) => headlineMetric(e.metrics));
  if (!latest) return null;
  const name = headlineMetric(latest.metrics)!.name;
  const candidates = sorted.filter((e) => finite(e.metrics[name]));
  const own = candidates.every((e) => finite(e.metrics.fitness));
  let best: (BestEpoch & { fitness: number }) | null = null;
  for (const e of candidates) {
    const fitness = own ? e.metrics.fitness! : (taskFitness(e.metrics) ?? e.metrics[name]!);
    if (!best || fitness >= best.fitness) best = { name, value: e.metrics[name]!, epoch: e.epoch, fitness };
  }
  return best && { name: best.name, value: best.value, epoch: best.epoch };
}

export type AutoBatchEvent = Extract<TrainerEvent, { type: "autobatch" }>;

/** The timeline line for AutoBatch's decision, e.g. "AutoBatch: 3146 at 60 % of 139.8 GB → 512 (ceiling, AUTO_BATCH_MAX)". */
export function describeAutoBatch(ev: AutoBatchEvent): string {
  if (ev.reason === "cpu") return `AutoBatch: no CUDA GPU (${ev.device || "cpu"}) → ${ev.batch}, Ultralytics' default batch`;
  if (ev.reason === "error")
    return `AutoBatch: profiling failed${ev.error ? ` (${ev.error})` : ""} → ${ev.batch}, Ultralytics' default batch`;
  const share = ev.fraction !== undefined ? ` at ${Math.round(ev.fraction * 100)} %` : "";
  const of = ev.memoryTotalGb !== undefined ? ` of ${ev.memoryTotalGb.toFixed(1)} GB` : "";
  const why = {
    fits: "",
    ceiling: ` (ceiling, AUTO_BATCH_MAX${ev.ceiling ? ` ${ev.ceiling}` : ""})`,
    images: ` (the training set has ${ev.images ?? ev.batch} images)`,
    profiled: " (the largest size that profiled without running out of memory)",
    floor: " (at least 1)",
  }[ev.reason];
  const predicted = finite(ev.predictedShare) ? `; predicted ${Math.round(ev.predictedShare * 100)} % of GPU memory` : "";
  return `AutoBatch: ${ev.computed ?? "?"}${share}${of} → ${ev.batch}${why}${predicted}`;
}
