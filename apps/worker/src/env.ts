import os from "node:os";
import { z } from "zod";

export const workerEnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z.url().default("postgresql://postgres@127.0.0.1:5432/wyolo"),
  REDIS_URL: z.url().default("redis://127.0.0.1:6379"),
  WORKER_NAME: z.string().trim().min(1).max(100).default(os.hostname()),
  /** Jobs run at once: the GPU slots this worker owns (a CPU-only worker runs one). */
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1),
  /** How long SIGTERM waits for running jobs before the process exits anyway. */
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  TRAINING_QUEUE: z.string().regex(/^[A-Za-z0-9_-]+$/).default("training"),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;
