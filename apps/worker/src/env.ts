import os from "node:os";
import { z } from "zod";
import { DELIVERY_RETRY_WINDOW_MS, parseByteSize, RESOURCE_SAMPLE_MS } from "@wyolo/contracts";
import { secretsKeyEnv } from "@wyolo/db/secret-box";
import { allowListEnv } from "@wyolo/db/webhook-target";

/** A size such as "50G", "512M" or a number of bytes. */
function byteSize(value: string, ctx: z.RefinementCtx): number {
  const bytes = parseByteSize(value);
  if (bytes === null) ctx.addIssue({ code: "custom", message: 'a size such as "50G", "512M" or a number of bytes' });
  return bytes ?? 0;
}

export const workerEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z.url().default("postgresql://postgres@127.0.0.1:5432/wyolo"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  WORKER_NAME: z.string().trim().min(1).max(100).default(os.hostname()),
  /** Jobs run at once: by default one per GPU found (a CPU-only worker runs one). */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).optional(),
  /** GPU discovery; a host without it (or without a driver) is a CPU-only worker. */
  NVIDIA_SMI: z.string().trim().min(1).default("nvidia-smi"),
  /** A GPU with less free memory than this is not given to a job. */
  MIN_FREE_GPU_MEMORY_MB: z.coerce.number().int().min(0).default(1024),
  /** Load ceiling (%): a GPU busier than this is not given to a job (the old service's MAX_GPU). */
  MAX_GPU: z.coerce.number().min(0).max(100).default(90),
  /** How often the worker reports itself and its GPUs (the Workers page). */
  REPORT_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
  /** How often a running job's resources (its process tree's CPU and memory, the host CPU, its GPUs) are sampled. */
  RESOURCE_SAMPLE_MS: z.coerce.number().int().min(100).max(60_000).default(RESOURCE_SAMPLE_MS),
  /** A job keeps at most this many resource rows: past it, the oldest adjacent pairs are merged. */
  RESOURCE_MAX_ROWS: z.coerce.number().int().min(16).max(100_000).default(1_000),
  /** A job that finds no suitable GPU here goes back to the queue for this long. */
  GPU_WAIT_RETRY_MS: z.coerce.number().int().min(100).max(3_600_000).default(15_000),
  /** How long SIGTERM waits for running jobs before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  TRAINING_QUEUE: z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/)
    .default("training"),
  /**
   * The program run for each job, split on spaces (the real Ultralytics trainer by default).
   * It gets its config, run directory and stop file through WYOLO_* variables and writes
   * protocol events to file descriptor 3 (docs/trainer-protocol.md).
   */
  TRAINER_COMMAND: z.string().trim().min(1).default("python3 apps/worker/trainer/train.py"),
  /**
   * The program run for each model export (same protocol; `--check` lists the formats this
   * image can produce, which the worker reports).
   */
  EXPORTER_COMMAND: z.string().trim().min(1).default("python3 apps/worker/trainer/export.py"),
  /** An export still running after this long is stopped and failed. */
  EXPORT_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 3_600_000)
    .default(1_800_000),
  /**
   * The Optuna bridge of hyperparameter sweeps (apps/worker/sweeper/optuna_bridge.py), split on
   * spaces: a Python with optuna, psycopg2 (and scikit-learn for importances). One long-lived child
   * per worker process; it alone gets the study storage (Postgres schema `optuna`, from DATABASE_URL).
   */
  OPTUNA_COMMAND: z.string().trim().min(1).default("python3 apps/worker/sweeper/optuna_bridge.py"),
  /** A call to the Optuna bridge unanswered after this long fails (the child is restarted; the sweep step is retried). */
  OPTUNA_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  /** Run `TRAINER_COMMAND --check` at start; a worker that cannot train fails its jobs at once with the reason. */
  TRAINER_CHECK: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  /** Named weights (yolo11n.pt…) are taken from here; nothing is downloaded at run time. */
  WEIGHTS_DIR: z.string().trim().optional(),
  /**
   * Named weights not in WEIGHTS_DIR are fetched from this prefix of S3_BUCKET (e.g. "weights/":
   * yolo11n.pt → s3://<bucket>/weights/yolo11n.pt) and cached in WORKER_DATA_DIR/weights.
   */
  WEIGHTS_S3_PREFIX: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9!_.*'()/-]*$/, "an S3 key prefix such as weights/")
    .optional(),
  /** Relative dataset paths in job configs resolve against this directory. */
  DATASETS_DIR: z.string().trim().optional(),
  /**
   * Dataset validation (docs/datasets.md): the program that checks an uploaded version's folder, split on
   * spaces; a Python with Pillow and PyYAML (Debian: python3-pil python3-yaml).
   */
  VALIDATOR_COMMAND: z.string().trim().min(1).default("python3 apps/worker/datasets/validate_dataset.py"),
  /** A validation still running after this long is stopped; the version's validation is retried, then INVALID. */
  VALIDATOR_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 3_600_000)
    .default(3_600_000),
  /** Processes the validator decodes images with (default: the CPUs, at most 8, or WORKER_CPU_CORES). */
  VALIDATOR_PROCS: z.coerce.number().int().min(1).max(256).optional(),
  /** An uploaded archive with more files than this is refused (INVALID, the report says why). */
  DATASET_MAX_FILES: z.coerce.number().int().min(1).max(100_000_000).default(1_000_000),
  /** An uploaded archive that unpacks to more than this ("50G", "512M", bytes) is refused, counted as it unpacks (zip bombs). */
  DATASET_MAX_BYTES: z
    .string()
    .trim()
    .default("100G")
    .transform((v, ctx) => byteSize(v, ctx)),
  /** Where dataset versions (`data: dataset:<name>@vN`) are cached, one folder per manifest hash; default WORKER_DATA_DIR/dataset-cache. */
  DATASET_CACHE_DIR: z.string().trim().min(1).optional(),
  /** The cache's size cap ("200G", "512M", bytes): least recently used versions not in use are removed past it. */
  DATASET_CACHE_MAX_BYTES: z
    .string()
    .trim()
    .default("100G")
    .transform((v, ctx) => byteSize(v, ctx)),
  /** Files of a dataset version fetched from the object store at once. */
  DATASET_FETCH_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
  /**
   * CPU cores this worker may use (the old service's variable; docker-compose.yaml gives the container
   * `cpus` from it). A job's dataloader `workers` is capped at its share of them, one kept for the trainer itself.
   */
  WORKER_CPU_CORES: z.coerce.number().gt(0).max(1024).optional(),
  /**
   * Memory this worker may use ("8G", "512M", bytes; the container's `mem_limit` in docker-compose.yaml).
   * A trainer whose process tree takes the worker past it is killed and its job fails OUT_OF_MEMORY,
   * before the kernel's OOM killer takes the worker itself.
   */
  WORKER_RAM_MEMORY: z
    .string()
    .trim()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "" || v === "0") return undefined;
      const bytes = parseByteSize(v);
      if (bytes === null) ctx.addIssue({ code: "custom", message: 'a memory size such as "8G", "512M" or a number of bytes' });
      return bytes ?? undefined;
    }),
  /** How often the trainers' memory is measured (/proc) against WORKER_RAM_MEMORY. */
  MEMORY_CHECK_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  /** GPU memory share AutoBatch aims at when a job asks for batch "auto" (-1); unset = Ultralytics' default. */
  AUTO_BATCH_FRACTION: z.coerce.number().gt(0).lt(1).optional(),
  /**
   * The largest batch AutoBatch may choose. Ultralytics' estimate for a big GPU can be far above what helps
   * (3146 for YOLOv8n at 256 px on an H200), where Ultralytics itself would fall back to 16; Wyolo takes this.
   */
  AUTO_BATCH_MAX: z.coerce.number().int().min(1).max(65_536).default(512),
  /** Where each job's run directory (checkpoints, config, stop file) lives. */
  WORKER_DATA_DIR: z.string().trim().min(1).default(".data/worker"),
  /**
   * A worker silent this long is taken as lost: its lock on each job (renewed every quarter of
   * this) lapses, another worker takes the job over and resumes it. A worker that cannot renew
   * in time stops its trainer first, so a job never trains twice (lost-workers.ts).
   */
  LOCK_DURATION_MS: z.coerce.number().int().min(2000).max(600_000).default(8_000),
  /** How often lapsed locks are looked for: a lost worker's job is put back within LOCK_DURATION_MS + this. */
  STALLED_INTERVAL_MS: z.coerce.number().int().min(500).max(600_000).default(2_000),
  /** Worker losses a job survives (each resumes from its checkpoint); one more fails it, and Retry resumes it. */
  WORKER_MAX_LOSSES: z.coerce.number().int().min(0).max(1_000).default(5),
  /** After a cancel, how long the trainer may take to reach its epoch boundary before it is killed. */
  CANCEL_KILL_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(120_000),
  /** How often progress, metrics and log lines are written to Postgres (batched). */
  FLUSH_INTERVAL_MS: z.coerce.number().int().min(50).max(60_000).default(1_000),
  HEARTBEAT_INTERVAL_MS: z.coerce.number().int().min(1000).max(600_000).default(10_000),
  /** Log lines kept per job (the oldest are trimmed). */
  MAX_LOG_LINES: z.coerce.number().int().min(100).max(1_000_000).default(5_000),
  /** MLflow tracking server; unset = no tracking (everything else works). */
  MLFLOW_TRACKING_URI: z.url().optional(),
  MLFLOW_TRACKING_USERNAME: z.string().optional(),
  MLFLOW_TRACKING_PASSWORD: z.string().optional(),
  /** A job whose oldest unsent MLflow call is older than this shows "tracking delayed". */
  MLFLOW_DELAYED_AFTER_MS: z.coerce.number().int().min(0).default(10_000),
  MLFLOW_MAX_BACKOFF_MS: z.coerce.number().int().min(100).default(30_000),
  /** Object store for artifacts (MinIO, S3…). Unset S3_ENDPOINT = artifacts stay on this worker's disk only. */
  S3_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().default("us-east-1"),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "a valid bucket name")
    .default("wyolo-artifacts"),
  S3_FORCE_PATH_STYLE: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true"),
  /** While training, weights are uploaded at most this often (a crash never loses everything). */
  ARTIFACT_CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(0).default(300_000),
  /**
   * When the object store is away at the end of a job, its final upload is retried (with backoff)
   * for this long before the job ends without it (the files stay in WORKER_DATA_DIR).
   */
  ARTIFACT_RETRY_WINDOW_MS: z.coerce.number().int().min(0).max(3_600_000).default(600_000),
  /** Key of the secrets stored encrypted (webhook URLs and signing secrets): the web app's SECRETS_KEY. Unset = deliveries wait. */
  SECRETS_KEY: secretsKeyEnv,
  /** Hosts, IPs and CIDR ranges webhooks may call although private, loopback or link-local (comma list). */
  WEBHOOK_ALLOWED_HOSTS: allowListEnv,
  /** The dashboard's address, for the links in webhook payloads (the web app's NEXTAUTH_URL). */
  DASHBOARD_URL: z.url().default("http://localhost:3000"),
  /** A webhook that has not answered after this long is a failed attempt. */
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  /** Retries wait this × 2^(attempt − 1), at most WEBHOOK_RETRY_MAX_MS, for DELIVERY_RETRY_WINDOW_MS (24 h) after the event. */
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  WEBHOOK_RETRY_MAX_MS: z.coerce.number().int().min(10).max(86_400_000).default(3_600_000),
  WEBHOOK_RETRY_WINDOW_MS: z.coerce.number().int().min(0).default(DELIVERY_RETRY_WINDOW_MS),
  /** How often due webhook deliveries are looked for (retries, and rows whose queue entry was lost). */
  WEBHOOK_SCAN_INTERVAL_MS: z.coerce.number().int().min(50).max(600_000).default(5_000),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;
