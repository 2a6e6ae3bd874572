import { z } from "zod";

/**
 * The trainer protocol, version 1 (docs/trainer-protocol.md): one JSON object per line on the
 * trainer's event channel (file descriptor 3), never on stdout, which carries progress bars.
 */
export const TRAINER_PROTOCOL_VERSION = 1;

const metricMap = z.record(z.string().max(200), z.number().nullable());
const path = z.string().max(4096);

/** PATH_NOT_ALLOWED: the job named a file outside its roots (WEIGHTS_DIR, DATASETS_DIR, its inputs), e.g. through a symlink. */
export const FAILURE_CLASSES = [
  "OUT_OF_MEMORY",
  "DATASET_NOT_FOUND",
  "INVALID_ARGUMENT",
  "PATH_NOT_ALLOWED",
  "INTERRUPTED",
  "UNKNOWN",
] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

const base = { v: z.literal(TRAINER_PROTOCOL_VERSION), time: z.number().optional() };

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

/** The metric shown as a job's "best": the first of these that the trainer reports. Higher is better. */
export const BEST_METRIC_KEYS = ["metrics/mAP50-95(B)", "metrics/mAP50-95(M)", "metrics/mAP50-95(P)", "metrics/accuracy_top1"] as const;

export function pickBestMetric(metrics: Record<string, number | null>): { name: string; value: number } | null {
  for (const key of BEST_METRIC_KEYS) {
    const value = metrics[key];
    if (typeof value === "number" && Number.isFinite(value)) return { name: key, value };
  }
  return null;
}
