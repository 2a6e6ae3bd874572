import { parse as parseYaml, YAMLParseError } from "yaml";
import { z } from "zod";
import { closest } from "./closest.ts";
import { isDatasetRef, parseDatasetRef } from "./datasets.ts";

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
const DATASET_REF_MESSAGE = "A dataset version is named dataset:<name>@v<N> or dataset:<name>@latest, e.g. dataset:shapes@v1";

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
      "A dataset version (dataset:<name>@v<N>) or the path to the dataset YAML (or folder for classification), relative to the datasets directory (DATASETS_DIR), e.g. shapes/data.yaml",
    )
    .max(1024)
    .superRefine((value, ctx) => {
      if (isDatasetRef(value)) {
        if (!parseDatasetRef(value)) ctx.addIssue({ code: "custom", message: DATASET_REF_MESSAGE });
      } else if (!isConfinedRelativePath(value)) ctx.addIssue({ code: "custom", message: DATA_MESSAGE });
    }),
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
const LEGACY_INFRA_INSTEAD: Record<(typeof LEGACY_INFRA_KEYS)[number], string> = {
  mlflow: "the platform's own MLflow settings apply (MLFLOW_TRACKING_URI in the deployment's environment)",
  minio:
    "the platform's own object store settings apply (S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY in the deployment's environment)",
  redis:
    "the platform's own Redis settings apply (REDIS_URL); jobs are queued by the API and their progress is read from the job's page, the REST API or socket.io, not a topic",
};

/** The old service's `sweeper:` block plus what Wyolo's sweeps add (docs: README "Sweeps"). */
export const SWEEP_SAMPLERS = ["TPESampler", "RandomSampler", "CmaEsSampler", "GridSampler", "QMCSampler"] as const;
export const SWEEP_PRUNERS = ["median", "successive_halving", "hyperband", "none"] as const;
export const SWEEP_DIRECTIONS = ["maximize", "minimize"] as const;
export type SweepSampler = (typeof SWEEP_SAMPLERS)[number];
export type SweepPruner = (typeof SWEEP_PRUNERS)[number];

/**
 * RT-DETR's decoder picks its 300 queries (top-k) among the anchors of three feature maps, strides 8,
 * 16 and 32: (s/8)² + (s/16)² + (s/32)² of them for an image of s px. Below 128 px there are fewer than
 * 300 and Ultralytics crashes after training started ("selected index k out of range"); `multi_scale`
 * trains down to half the size.
 */
export const RTDETR_QUERIES = 300;
const rtdetrAnchors = (s: number) => (s / 8) ** 2 + (s / 16) ** 2 + (s / 32) ** 2;
const isRtdetr = (c: { type: string; model: string }) => c.type === "rtdetr" || /(^|\/)rtdetr[^/]*$/i.test(c.model);

/** The smallest `imgsz` (a multiple of 32) an RT-DETR job can train at; null for other models. */
export function rtdetrMinImgsz(c: { type: string; model: string; train: { multi_scale?: boolean } }): number | null {
  if (!isRtdetr(c)) return null;
  let s = 32;
  while (rtdetrAnchors(c.train.multi_scale ? s / 2 : s) < RTDETR_QUERIES) s += 32;
  return s;
}

function rtdetrImgszMessage(min: number, multiScale: boolean): string {
  return `RT-DETR needs imgsz ≥ ${min}${multiScale ? " with multi_scale (it trains down to half the size)" : ""}: its decoder picks ${RTDETR_QUERIES} queries among the image's anchors, and a smaller image has fewer`;
}

const choice = z.union([z.string().max(200), z.number(), z.boolean()]);
const searchParamSchema = z.discriminatedUnion(
  "type",
  [
    z.strictObject({
      type: z.literal("float"),
      low: z.number(),
      high: z.number(),
      log: z.boolean().default(false),
      step: z.number().positive().optional(),
    }),
    z.strictObject({
      type: z.literal("int"),
      low: z.int(),
      high: z.int(),
      log: z.boolean().default(false),
      step: z.int().min(1).optional(),
    }),
    z.strictObject({ type: z.literal("categorical"), choices: z.array(choice).min(1, "At least one choice").max(100) }),
  ],
  { error: "`type` must be float, int or categorical" },
);
export type SearchParam = z.output<typeof searchParamSchema>;
export type SearchSpace = Record<string, SearchParam>;
const SEARCH_PARAM_KEYS = ["type", "low", "high", "log", "step", "choices"];

/** Train arguments a sweep may not vary: the dataset is the sweep's, `epochs` is its budget per trial. */
const UNSWEEPABLE: Record<string, string> = {
  data: "a sweep tunes one dataset",
  epochs: "`epochs` is each trial's budget; set it in `train`",
};

const sweeperSchema = z.strictObject({
  tune: z.boolean().default(false),
  /** The old service's field: Optuna is the only engine. */
  algorithm: z.literal("optuna", { error: "Only `optuna` is supported" }).default("optuna"),
  study_name: z.string().trim().min(1).max(120).optional(),
  n_trials: z.int().min(1, "At least 1").max(1000, "At most 1000").default(20),
  direction: z.enum(SWEEP_DIRECTIONS).default("maximize"),
  sampler: z.enum(SWEEP_SAMPLERS).default("TPESampler"),
  seed: z.int().min(0).optional(),
  pruner: z.enum(SWEEP_PRUNERS).default("successive_halving"),
  /** Minimum epochs a trial runs before the pruner may stop it. */
  grace_period: z.int().min(1, "At least 1 epoch").max(10_000).default(1),
  /** `fitness` (Ultralytics' own), or any recorded metric name, e.g. `metrics/mAP50-95(B)`. */
  objective: z.string().trim().min(1).max(200).default("fitness"),
  /** Trials running at once (over every worker). */
  parallel: z.int().min(1).max(64).default(1),
  /** Seconds after which no new trial starts (running ones finish). */
  timeout: z
    .int()
    .min(60, "At least 60 seconds")
    .max(30 * 24 * 3600)
    .optional(),
  search_space: z.record(z.string(), searchParamSchema).optional(),
});
type SweeperInput = z.output<typeof sweeperSchema>;
export const SWEEPER_KEYS = Object.keys(sweeperSchema.shape);

/** A resolved sweep: the sweeper block with its defaults and the search space (Ultralytics' own for the task when not given). */
export type SweepSettings = Omit<SweeperInput, "tune" | "search_space"> & { search_space: SearchSpace };

/** Checks each searched argument against the train-argument schema: bounds and every choice must be values train accepts. */
function checkSearchSpace(space: SearchSpace | undefined, ctx: z.RefinementCtx) {
  for (const [name, param] of Object.entries(space ?? {})) {
    const at = ["sweeper", "search_space", name];
    if (Object.hasOwn(UNSWEEPABLE, name)) {
      ctx.addIssue({ code: "custom", path: at, message: `\`${name}\` cannot be searched: ${UNSWEEPABLE[name]}` });
      continue;
    }
    const arg = Object.hasOwn(trainArgsShape, name) ? (trainArgsShape as Record<string, z.ZodType>)[name] : undefined;
    if (!arg) {
      const near = closest(name, TRAIN_ARG_NAMES);
      ctx.addIssue({
        code: "custom",
        path: at,
        message: `Unknown train argument \`${name}\`${near.length ? `; did you mean ${near.map((k) => `\`${k}\``).join(", ")}?` : ""}`,
      });
      continue;
    }
    // Weights named in a space would reach the worker unchecked by the submitter's permissions (job: refs).
    if (name === "pretrained" && (param.type !== "categorical" || param.choices.some((c) => typeof c !== "boolean"))) {
      ctx.addIssue({ code: "custom", path: at, message: "`pretrained` is searched over true and false only; name weights in `model`" });
      continue;
    }
    const values = param.type === "categorical" ? param.choices : [param.low, param.high];
    let boundsOk = true;
    for (const v of values) {
      const r = arg.safeParse(v);
      if (r.success) continue;
      boundsOk = false;
      ctx.addIssue({ code: "custom", path: at, message: `${JSON.stringify(v)} is not a valid \`${name}\`: ${r.error.issues[0]?.message}` });
    }
    // Values inside the range are sampled too: an integer argument searched as a float, or an
    // `imgsz` without its step of 32, would fail every trial later.
    if (boundsOk && param.type !== "categorical" && param.low < param.high) {
      const inside =
        param.step !== undefined
          ? param.low + param.step
          : param.type === "int"
            ? param.low + 1
            : param.low + (param.high - param.low) * 0.37;
      const r = inside <= param.high ? arg.safeParse(inside) : null;
      if (r && !r.success)
        ctx.addIssue({
          code: "custom",
          path: at,
          message: `${inside} (inside the range) is not a valid \`${name}\`: ${r.error.issues[0]?.message}; use \`step\`, type int or categorical choices`,
        });
    }
    if (param.type !== "categorical") {
      if (param.low >= param.high) ctx.addIssue({ code: "custom", path: [...at, "high"], message: "`high` must be greater than `low`" });
      if (param.log && param.low <= 0) ctx.addIssue({ code: "custom", path: [...at, "low"], message: "A log scale needs `low` > 0" });
      if (param.log && param.step !== undefined)
        ctx.addIssue({ code: "custom", path: [...at, "step"], message: "`step` and `log` cannot be combined" });
    }
  }
}

const float = (low: number, high: number, log = false): SearchParam => ({ type: "float", low, high, log });

/**
 * Ultralytics' own tuner space (ultralytics/engine/tuner.py, 8.3), learning rates on a log scale.
 * Classification has no box/cls/dfl losses and no mosaic-style augmentation.
 */
export function defaultSearchSpace(task: Task): SearchSpace {
  const common: SearchSpace = {
    lr0: float(1e-5, 1e-1, true),
    lrf: float(1e-4, 1e-1, true),
    momentum: float(0.7, 0.98),
    weight_decay: float(0, 0.001),
    warmup_epochs: float(0, 5),
    warmup_momentum: float(0, 0.95),
    hsv_h: float(0, 0.1),
    hsv_s: float(0, 0.9),
    hsv_v: float(0, 0.9),
    degrees: float(0, 45),
    translate: float(0, 0.9),
    scale: float(0, 0.95),
    shear: float(0, 10),
    perspective: float(0, 0.001),
    flipud: float(0, 1),
    fliplr: float(0, 1),
    bgr: float(0, 1),
  };
  if (task === "classify") return common;
  return {
    ...common,
    box: float(1, 20),
    cls: float(0.2, 4),
    dfl: float(0.4, 6),
    mosaic: float(0, 1),
    mixup: float(0, 1),
    cutmix: float(0, 1),
    copy_paste: float(0, 1),
  };
}

function resolveSweep(sweeper: SweeperInput, config: TrainingConfig): SweepSettings {
  const { tune: _tune, search_space, ...rest } = sweeper;
  return { ...rest, search_space: search_space && Object.keys(search_space).length ? search_space : defaultSearchSpace(config.task) };
}

/** A trial's config: the sweep's base config with the sampled arguments in `train`. */
export function applyTrialParams(config: TrainingConfig, params: Record<string, unknown>): TrainingConfig {
  return { ...config, train: { ...config.train, ...params } as TrainingConfig["train"] };
}

const TOP_LEVEL_KEYS = ["model", "type", "task", "task_id", "gpus", "train", "metadata", "sweeper", "logging", ...LEGACY_INFRA_KEYS];

/**
 * The old service's `logging:` block. `level` decides what the job's log keeps (the worker filters
 * the trainer's output by it, and train.py sets Ultralytics' verbosity from it); `format` is kept for
 * the record only: the job log is structured already (stream, sequence, time per line).
 */
export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"] as const;
export const LOG_FORMATS = ["simple", "detailed", "json"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];
const caseless = <T extends readonly string[]>(values: T, aliases: Record<string, T[number]> = {}) =>
  z.preprocess(
    (v) => (typeof v === "string" ? (aliases[v.trim().toLowerCase()] ?? v.trim()) : v),
    z.string({ error: `One of ${values.join(", ")}` }).transform((v, ctx) => {
      const hit = values.find((x) => x.toLowerCase() === v.toLowerCase());
      if (hit) return hit as T[number];
      ctx.addIssue({ code: "custom", message: `One of ${values.join(", ")} (any case)` });
      return z.NEVER;
    }),
  );
const loggingSchema = z.strictObject({
  // Python's logging accepts WARN for WARNING; old configs may carry it.
  level: caseless(LOG_LEVELS, { warn: "WARNING" }).default("INFO"),
  format: caseless(LOG_FORMATS).default("simple"),
});
export type LoggingSettings = { level: LogLevel; format: LogFormat };
const LOGGING_KEYS = Object.keys(loggingSchema.shape);

/** How much each level weighs: a job keeps what weighs at least its `logging.level`. */
export const LOG_LEVEL_RANK: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };

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
    sweeper: sweeperSchema.optional(),
    logging: loggingSchema.optional(),
    mlflow: z.unknown().optional(),
    minio: z.unknown().optional(),
    redis: z.unknown().optional(),
  })
  .superRefine((c, ctx) => {
    const rtdetrMin = rtdetrMinImgsz(c);
    if (rtdetrMin !== null && c.train.imgsz < rtdetrMin)
      ctx.addIssue({ code: "custom", path: ["train", "imgsz"], message: rtdetrImgszMessage(rtdetrMin, c.train.multi_scale) });
    if (!c.sweeper?.tune) return;
    checkSearchSpace(c.sweeper.search_space, ctx);
    if (c.sweeper.sampler === "GridSampler") {
      const space = c.sweeper.search_space ?? {};
      if (!Object.keys(space).length)
        ctx.addIssue({ code: "custom", path: ["sweeper", "search_space"], message: "GridSampler needs a `search_space` of its own" });
      for (const [name, p] of Object.entries(space))
        if (p.type === "float" && p.step === undefined)
          ctx.addIssue({
            code: "custom",
            path: ["sweeper", "search_space", name],
            message: "GridSampler needs categorical choices or a `step` for each parameter",
          });
    }
  })
  .transform(({ model, type, task, task_id, gpus, train, metadata, sweeper, logging }) => ({
    config: {
      model,
      type,
      task: task ?? taskFromModel(model),
      ...(task_id ? { task_id } : {}),
      ...(gpus !== undefined ? { gpus } : {}),
      train,
      ...(metadata ? { metadata } : {}),
      ...(logging ? { logging: logging as LoggingSettings } : {}),
    },
    sweeper,
  }));

export type TrainingConfig = {
  model: string;
  type: (typeof MODEL_TYPES)[number];
  task: Task;
  task_id?: string;
  gpus?: number;
  train: z.output<typeof trainSchema>;
  metadata?: Record<string, unknown>;
  /** Absent: the log keeps every line (as before the `logging:` block was accepted). */
  logging?: LoggingSettings;
};
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
/**
 * `sweep`: set when the config's `sweeper.tune` is true (the submission is a sweep of this base config).
 * `sources`: where each value the config left out came from, by dotted path (values the user gave are not listed).
 */
export type ParsedConfig =
  | { ok: true; config: TrainingConfig; sweep?: SweepSettings; warnings: string[]; sources: ConfigSources }
  | { ok: false; issues: ConfigIssue[] };

/** Dotted path → where the value came from: `DEFAULT_EPOCHS`, `DEFAULT_BATCH_SIZE` or `ultralytics default` (train.epochs, batch, workers). */
export type ConfigSources = Record<string, string>;

/** Platform-wide defaults (the web app's DEFAULT_EPOCHS / DEFAULT_BATCH_SIZE) for a config that leaves them out. */
export type ConfigDefaults = { epochs?: number; batch?: number };
export type ParseTrainingConfigOptions = { defaults?: ConfigDefaults };

/** The train arguments a platform default may fill, with the environment variable that sets each. */
const PLATFORM_DEFAULTS = { epochs: "DEFAULT_EPOCHS", batch: "DEFAULT_BATCH_SIZE" } as const;
export const ULTRALYTICS_DEFAULT = "ultralytics default";

/**
 * Fills `train.epochs` / `train.batch` from the platform defaults when the config leaves them out,
 * before validation (a bad default is reported like a bad value, naming its variable), and says where
 * each came from. Only plain-object `train` blocks are touched; anything else fails validation as before.
 */
function applyPlatformDefaults(raw: Record<string, unknown>, defaults: ConfigDefaults | undefined) {
  const sources: ConfigSources = {};
  const train = raw.train;
  if (typeof train !== "object" || train === null || Array.isArray(train)) return { raw, sources };
  const filled: Record<string, unknown> = { ...(train as Record<string, unknown>) };
  for (const [key, variable] of Object.entries(PLATFORM_DEFAULTS) as [keyof ConfigDefaults, string][]) {
    if (filled[key] !== undefined && filled[key] !== null) continue;
    const value = defaults?.[key];
    if (value !== undefined) {
      filled[key] = value;
      sources[`train.${key}`] = variable;
    } else {
      delete filled[key];
      sources[`train.${key}`] = ULTRALYTICS_DEFAULT;
    }
  }
  // The worker sizes the dataloader from its CPU limit only where the user left `workers` out.
  if (filled.workers === undefined || filled.workers === null) sources["train.workers"] = ULTRALYTICS_DEFAULT;
  return { raw: { ...raw, train: filled }, sources };
}

/** Where the old service's container mounted its datasets share (its README: /datasets). */
const OLD_DATASETS_MOUNT = "/datasets/";

/**
 * The old service took absolute dataset paths (its own /datasets mount); Wyolo reads datasets from
 * DATASETS_DIR only. An absolute `train.data` is read relative to DATASETS_DIR, with a warning, and
 * must still be confined (no `..`) once its leading `/` (or `/datasets/`) is dropped.
 */
function relativizeDataPath(raw: Record<string, unknown>, warnings: string[]): Record<string, unknown> {
  const train = raw.train as Record<string, unknown> | undefined;
  const data = typeof train === "object" && train !== null ? train.data : undefined;
  if (typeof data !== "string" || !data.trim().startsWith("/")) return raw;
  const absolute = data.trim();
  const relative = absolute.startsWith(OLD_DATASETS_MOUNT) ? absolute.slice(OLD_DATASETS_MOUNT.length) : absolute.replace(/^\/+/, "");
  if (!isConfinedRelativePath(relative)) return raw;
  warnings.push(
    `\`train.data\` is an absolute path: Wyolo reads datasets from its datasets directory (DATASETS_DIR) only, so \`${absolute}\` is read as \`${relative}\` there`,
  );
  return { ...raw, train: { ...train, data: relative } };
}

/** Parses a config given as an object, a JSON string or a YAML string (the old config.yaml shape). */
/**
 * Far deeper than any real config (the web app refuses past 64 levels after parsing, naming the
 * field) and far below where the YAML parser's recursion exhausts the stack (a few thousand).
 */
export const MAX_YAML_NESTING = 512;

/**
 * Whether YAML text nests deeper than `max`, found by a scan before parsing: flow collections
 * (`[`, `{` outside quotes) and compact block sequences (`- - - x`). A parser that recurses
 * thousands of levels deep can exhaust the stack inside a regular expression, which V8 does not
 * survive as an exception but as a process crash.
 */
export function yamlNestingExceeds(text: string, max = MAX_YAML_NESTING): boolean {
  let depth = 0;
  let quote: string | null = null;
  let lineStart = true;
  let dashes = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (quote === '"' && c === "\\") i++;
      else if (c === quote) quote = null;
      continue;
    }
    if (c === "\n") {
      lineStart = true;
      dashes = 0;
      continue;
    }
    if (lineStart) {
      if (c === " " || c === "\t") continue;
      if ((c === "-" || c === "?") && (text[i + 1] === " " || text[i + 1] === "\t")) {
        if (++dashes > max) return true;
        i++;
        continue;
      }
      lineStart = false;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === "[" || c === "{") {
      if (++depth > max) return true;
    } else if (c === "]" || c === "}") depth = Math.max(0, depth - 1);
    else if (c === "#" && (i === 0 || text[i - 1] === " ")) {
      const end = text.indexOf("\n", i);
      i = end === -1 ? text.length : end - 1;
    }
  }
  return false;
}

export function parseTrainingConfig(input: unknown, options: ParseTrainingConfigOptions = {}): ParsedConfig {
  let raw = input;
  if (typeof input === "string") {
    if (input.length > 100_000) return { ok: false, issues: [{ path: "config", message: "Config is larger than 100 kB" }] };
    if (yamlNestingExceeds(input))
      return { ok: false, issues: [{ path: "config", message: `Nested more than ${MAX_YAML_NESTING} levels deep` }] };
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
  const warnings = LEGACY_INFRA_KEYS.filter((k) => k in raw).map((k) => `\`${k}\` was ignored: ${LEGACY_INFRA_INSTEAD[k]}`);
  const withDefaults = applyPlatformDefaults(relativizeDataPath(raw as Record<string, unknown>, warnings), options.defaults);
  const sources = withDefaults.sources;
  const result = trainingConfigSchema.safeParse(withDefaults.raw);
  if (!result.success) {
    const issues: ConfigIssue[] = [];
    for (const issue of result.error.issues) {
      const at = issue.path.map(String);
      const source = sources[at.join(".")];
      if (source && source !== ULTRALYTICS_DEFAULT) {
        issues.push({ path: at.join("."), message: `${issue.message} (the platform default ${source})` });
        continue;
      }
      if (issue.code === "unrecognized_keys") {
        const where = at.join(".");
        const [known, managed] =
          where === "train"
            ? [TRAIN_ARG_NAMES, MANAGED_TRAIN_ARGS]
            : where === "sweeper"
              ? [SWEEPER_KEYS, {}]
              : /^sweeper\.search_space\.[^.]+$/.test(where)
                ? [SEARCH_PARAM_KEYS, {}]
                : where === "logging"
                  ? [LOGGING_KEYS, {}]
                  : [TOP_LEVEL_KEYS, {}];
        for (const key of issue.keys) issues.push({ path: [...at, key].join("."), message: unknownKeyMessage(key, known, managed) });
      } else {
        issues.push({ path: at.join(".") || "config", message: issue.message });
      }
    }
    return { ok: false, issues };
  }
  const { config, sweeper } = result.data;
  if (sweeper && !sweeper.tune) {
    warnings.push("`sweeper` was ignored: `tune` is false, so this is one training job (set `sweeper.tune: true` for a sweep)");
    return { ok: true, config, warnings, sources };
  }
  if (!sweeper) return { ok: true, config, warnings, sources };
  return { ok: true, config, sweep: resolveSweep(sweeper, config), warnings, sources };
}
