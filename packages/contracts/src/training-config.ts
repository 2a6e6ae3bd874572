import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { closest } from "./closest.ts";

const num = (min: number, max: number) => z.number().min(min).max(max);
const unit = num(0, 1);

/**
 * What a job may name on the worker's disk. Paths are confined: weights live in WEIGHTS_DIR (or the
 * object store's weights prefix), datasets in DATASETS_DIR, and another job's weights are reached
 * only as `job:<id>/best.pt` (checked against the submitter's permissions, fetched from the object
 * store). The worker and trainer check again after resolving symlinks; this is the first gate.
 */
const JOB_WEIGHTS_REF = /^job:([A-Za-z0-9_-]{1,64})\/(best|last)\.pt$/;
export const JOB_WEIGHTS_FILES = ["best.pt", "last.pt"] as const;
export type JobWeightsRef = { jobId: string; file: (typeof JOB_WEIGHTS_FILES)[number] };

/** `job:<id>/best.pt` → { jobId, file }; null for anything else. */
export function parseJobWeightsRef(value: string): JobWeightsRef | null {
  const m = JOB_WEIGHTS_REF.exec(value);
  return m ? { jobId: m[1]!, file: `${m[2] as "best" | "last"}.pt` } : null;
}

/** The JobArtifact name that holds a referenced job's weights. */
export const jobWeightsArtifactName = (ref: JobWeightsRef) => `weights/${ref.file}`;

/** A relative path with no `..` segment, no empty segment, no backslash or control character. */
export function isConfinedRelativePath(value: string): boolean {
  if (!value || value.startsWith("/") || value.includes("\\") || [...value].some((c) => c.charCodeAt(0) < 0x20)) return false;
  return value.split("/").every((segment) => segment !== "" && segment !== "..");
}

const NAMED_MODEL = /^[A-Za-z0-9_.\-/]+\.(pt|ya?ml)$/;
const isNamedModel = (value: string) => NAMED_MODEL.test(value) && isConfinedRelativePath(value);
const isWeightsRef = (value: string) => parseJobWeightsRef(value) !== null || (isNamedModel(value) && value.endsWith(".pt"));

const MODEL_MESSAGE =
  "A weights file (.pt) or an architecture (.yaml) by name, e.g. yolo11n.pt (looked up in the worker's WEIGHTS_DIR, no absolute path or `..`), or job:<id>/best.pt (or last.pt) to fine-tune from an earlier job";
const PRETRAINED_MESSAGE = "true, false, a weights file by name (e.g. yolo11n.pt, in WEIGHTS_DIR) or job:<id>/best.pt (or last.pt)";
const DATA_MESSAGE = "A path relative to the datasets directory (DATASETS_DIR), e.g. shapes/data.yaml: no absolute path, no `..`";

/**
 * The Ultralytics train() arguments Wyolo accepts, with their types, ranges and Ultralytics'
 * own defaults (8.3/8.4). Keys the platform manages itself (run dirs, resume) are refused with
 * a message; unknown keys are refused naming the closest valid ones.
 */
export const trainArgsShape = {
  data: z
    .string()
    .trim()
    .min(
      1,
      "Path to the dataset YAML (or folder for classification), relative to the datasets directory (DATASETS_DIR), e.g. shapes/data.yaml",
    )
    .max(1024)
    .refine(isConfinedRelativePath, DATA_MESSAGE),
  epochs: z.int().min(1, "At least 1").max(10_000).default(100),
  time: z.number().positive("Hours, > 0").max(10_000).optional(),
  patience: z.int().min(0).max(10_000).default(100),
  batch: z
    .union(
      [
        z.literal(-1),
        z.int().min(1, "≥ 1, -1 for auto, or a fraction 0 < b < 1").max(4096),
        z.number().gt(0).lt(1, "A fraction of GPU memory must be < 1"),
      ],
      { error: "An integer ≥ 1, -1 for auto, or a GPU memory fraction 0 < b < 1" },
    )
    .default(16),
  imgsz: z.int().min(32).max(8192).multipleOf(32, "Must be a multiple of 32").default(640),
  save: z.boolean().default(true),
  save_period: z.int().min(-1).default(-1),
  cache: z.union([z.boolean(), z.enum(["ram", "disk"])]).default(false),
  device: z
    .union([
      z
        .string()
        .trim()
        .regex(/^(cpu|mps|cuda(:\d+)?|\d+(,\d+)*)$/, "cpu, mps, 0, 0,1 …"),
      z.int().min(0),
      z.array(z.int().min(0)).min(1),
    ])
    .optional(),
  workers: z.int().min(0).max(64).default(8),
  pretrained: z
    .union([z.boolean(), z.string().trim().max(512).refine(isWeightsRef, PRETRAINED_MESSAGE)], { error: PRETRAINED_MESSAGE })
    .default(true),
  optimizer: z.enum(["auto", "SGD", "Adam", "Adamax", "AdamW", "NAdam", "RAdam", "RMSProp"]).default("auto"),
  verbose: z.boolean().default(true),
  seed: z.int().min(0).default(0),
  deterministic: z.boolean().default(true),
  single_cls: z.boolean().default(false),
  classes: z.array(z.int().min(0)).optional(),
  rect: z.boolean().default(false),
  cos_lr: z.boolean().default(false),
  close_mosaic: z.int().min(0).default(10),
  amp: z.boolean().default(true),
  fraction: z.number().gt(0).max(1).default(1),
  profile: z.boolean().default(false),
  freeze: z.union([z.int().min(0), z.array(z.int().min(0))]).optional(),
  multi_scale: z.boolean().default(false),
  overlap_mask: z.boolean().default(true),
  mask_ratio: z.int().min(1).default(4),
  dropout: z.number().min(0).lt(1).default(0),
  val: z.boolean().default(true),
  plots: z.boolean().default(true),
  lr0: z.number().gt(0).max(1).default(0.01),
  lrf: z.number().gt(0).max(1).default(0.01),
  momentum: z.number().min(0).lt(1).default(0.937),
  weight_decay: num(0, 0.1).default(0.0005),
  warmup_epochs: z.number().min(0).default(3),
  warmup_momentum: z.number().min(0).lt(1).default(0.8),
  warmup_bias_lr: z.number().min(0).max(1).default(0.1),
  box: z.number().min(0).default(7.5),
  cls: z.number().min(0).default(0.5),
  dfl: z.number().min(0).default(1.5),
  pose: z.number().min(0).default(12),
  kobj: z.number().min(0).default(1),
  nbs: z.int().min(1).default(64),
  hsv_h: unit.default(0.015),
  hsv_s: unit.default(0.7),
  hsv_v: unit.default(0.4),
  degrees: num(-180, 180).default(0),
  translate: unit.default(0.1),
  scale: z.number().min(0).default(0.5),
  shear: num(-180, 180).default(0),
  perspective: num(0, 0.001).default(0),
  flipud: unit.default(0),
  fliplr: unit.default(0.5),
  bgr: unit.default(0),
  mosaic: unit.default(1),
  mixup: unit.default(0),
  cutmix: unit.default(0),
  copy_paste: unit.default(0),
  copy_paste_mode: z.enum(["flip", "mixup"]).default("flip"),
  auto_augment: z.enum(["randaugment", "autoaugment", "augmix"]).default("randaugment"),
  erasing: num(0, 0.9).default(0.4),
};

export const TRAIN_ARG_NAMES = Object.keys(trainArgsShape).sort();

/** Set by Wyolo for each job (its run directory, resumption, the model from the top level). */
const MANAGED_TRAIN_ARGS: Record<string, string> = {
  project: "the run directory is chosen by the worker",
  name: "the run directory is chosen by the worker",
  exist_ok: "the run directory is chosen by the worker",
  resume: "Wyolo resumes interrupted jobs from their own checkpoint",
  model: "set `model` at the top level",
  mode: "Wyolo always trains",
};

export const MODEL_TYPES = ["yolo", "rtdetr"] as const;
export const TASKS = ["detect", "segment", "classify", "pose", "obb"] as const;
export type Task = (typeof TASKS)[number];

/** Infrastructure blocks of the old Python service's config.yaml: accepted, dropped, never stored (they carry secrets). */
const LEGACY_INFRA_KEYS = ["mlflow", "minio", "redis"] as const;

const TOP_LEVEL_KEYS = ["model", "type", "task", "task_id", "gpus", "train", "metadata", "sweeper", ...LEGACY_INFRA_KEYS];

const metadataSchema = z
  .record(z.string().max(100), z.unknown())
  .refine((m) => JSON.stringify(m).length <= 10_000, "Metadata must be under 10 kB");

function unknownKeyMessage(key: string, known: readonly string[], managed: Record<string, string>): string {
  // Object.hasOwn: `constructor` or `toString` must not find Object.prototype's members.
  if (Object.hasOwn(managed, key)) return `\`${key}\` is managed by Wyolo: ${managed[key]}; remove it`;
  const near = closest(key, known);
  return `Unknown key \`${key}\`${near.length ? `; did you mean ${near.map((k) => `\`${k}\``).join(", ")}?` : ""}`;
}

const trainSchema = z.strictObject(trainArgsShape);

export const trainingConfigSchema = z
  .strictObject({
    model: z
      .string({ error: MODEL_MESSAGE })
      .trim()
      .max(512)
      .refine((m) => isNamedModel(m) || parseJobWeightsRef(m) !== null, MODEL_MESSAGE),
    type: z.enum(MODEL_TYPES).default("yolo"),
    task: z.enum(TASKS).optional(),
    task_id: z.string().trim().max(200).optional(),
    /** GPUs for this job: 0 = CPU; unset = one when the worker has any, else CPU. */
    gpus: z.int().min(0).max(16).optional(),
    train: trainSchema,
    metadata: metadataSchema.optional(),
    sweeper: z
      .looseObject({ tune: z.boolean().default(false) })
      .refine((s) => !s.tune, { path: ["tune"], message: "Hyperparameter sweeps are not supported yet; set tune: false" })
      .optional(),
    mlflow: z.unknown().optional(),
    minio: z.unknown().optional(),
    redis: z.unknown().optional(),
  })
  .transform(({ model, type, task, task_id, gpus, train, metadata }) => ({
    model,
    type,
    task: task ?? taskFromModel(model),
    ...(task_id ? { task_id } : {}),
    ...(gpus !== undefined ? { gpus } : {}),
    train,
    ...(metadata ? { metadata } : {}),
  }));

export type TrainingConfig = z.output<typeof trainingConfigSchema>;
export type TrainingConfigInput = z.input<typeof trainingConfigSchema>;

/** Ultralytics' own convention: yolo11n-seg.pt → segment, -cls → classify, -pose, -obb; else detect. */
export function taskFromModel(model: string): Task {
  const base = model.split("/").pop()!.toLowerCase();
  if (/-seg\b/.test(base)) return "segment";
  if (/-cls\b/.test(base)) return "classify";
  if (/-pose\b/.test(base)) return "pose";
  if (/-obb\b/.test(base)) return "obb";
  return "detect";
}

export type ConfigIssue = { path: string; message: string };
export type ParsedConfig = { ok: true; config: TrainingConfig; warnings: string[] } | { ok: false; issues: ConfigIssue[] };

/** Parses a config given as an object, a JSON string or a YAML string (the old config.yaml shape). */
export function parseTrainingConfig(input: unknown): ParsedConfig {
  let raw = input;
  if (typeof input === "string") {
    if (input.length > 100_000) return { ok: false, issues: [{ path: "config", message: "Config is larger than 100 kB" }] };
    try {
      raw = parseYaml(input, { maxAliasCount: 50 });
    } catch (err) {
      const where = err instanceof YAMLParseError && err.linePos ? ` (line ${err.linePos[0].line})` : "";
      return { ok: false, issues: [{ path: "config", message: `Not valid YAML${where}: ${(err as Error).message.split("\n")[0]}` }] };
    }
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    return { ok: false, issues: [{ path: "config", message: "Expected a mapping with `model` and `train`" }] };
  }
  const warnings = LEGACY_INFRA_KEYS.filter((k) => k in raw).map(
    (k) =>
      `\`${k}\` was ignored: the platform's own ${k === "mlflow" ? "MLflow" : k === "minio" ? "object store" : "Redis"} settings apply`,
  );
  const result = trainingConfigSchema.safeParse(raw);
  if (!result.success) {
    const issues: ConfigIssue[] = [];
    for (const issue of result.error.issues) {
      const at = issue.path.map(String);
      if (issue.code === "unrecognized_keys") {
        const [known, managed] = at.join(".") === "train" ? [TRAIN_ARG_NAMES, MANAGED_TRAIN_ARGS] : [TOP_LEVEL_KEYS, {}];
        for (const key of issue.keys) issues.push({ path: [...at, key].join("."), message: unknownKeyMessage(key, known, managed) });
      } else {
        issues.push({ path: at.join(".") || "config", message: issue.message });
      }
    }
    return { ok: false, issues };
  }
  return { ok: true, config: result.data, warnings };
}
