import { Worker } from "bullmq";
import { Redis } from "ioredis";
import { createDb } from "@wyolo/db";
import { EnvError, parseEnv } from "@wyolo/contracts";
import { workerEnvSchema, type WorkerEnv } from "./env.ts";
import { createLogger } from "./logger.ts";
import { dispatch } from "./catalog.ts";

let env: WorkerEnv;
try {
  env = parseEnv(workerEnvSchema, process.env);
} catch (err) {
  if (err instanceof EnvError) {
    console.error(err.message);
    process.exit(1);
  }
  throw err;
}

const log = createLogger(env.LOG_LEVEL, env.WORKER_NAME);
const db = createDb(env.DATABASE_URL, { poolSize: Math.max(2, env.WORKER_CONCURRENCY + 1) });
// BullMQ workers block on Redis: no per-request retry limit, reconnect forever.
const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
connection.on("error", (err: Error) => log.warn({ err: { message: err.message } }, "redis error"));

await db.$queryRaw`SELECT 1`.catch((err: Error) => {
  log.fatal({ err: { message: err.message } }, "cannot reach Postgres (DATABASE_URL)");
  process.exit(1);
});

const controllers = new Set<AbortController>();
const worker = new Worker(
  env.TRAINING_QUEUE,
  async (job) => {
    const controller = new AbortController();
    controllers.add(controller);
    try {
      return await dispatch(job, controller.signal, log.child({ jobId: job.id }));
    } finally {
      controllers.delete(controller);
    }
  },
  { connection, concurrency: env.WORKER_CONCURRENCY, autorun: false },
);
worker.on("error", (err) => log.error({ err: { message: err.message } }, "worker error"));
worker.on("failed", (job, err) => log.warn({ jobId: job?.id, reason: err.message }, "job failed"));

await worker.waitUntilReady();
void worker.run();
log.info({ queue: env.TRAINING_QUEUE, concurrency: env.WORKER_CONCURRENCY }, "worker ready");

let shuttingDown = false;
async function shutdown(signal: string) {
  if (shuttingDown) return;
  shuttingDown = true;
  log.info({ signal }, "shutting down: no new jobs");
  const deadline = setTimeout(() => {
    log.error("shutdown deadline passed; exiting");
    process.exit(1);
  }, env.SHUTDOWN_TIMEOUT_MS);
  deadline.unref();
  for (const c of controllers) c.abort(new Error(signal));
  try {
    await worker.close();
    await Promise.allSettled([connection.quit(), db.$disconnect()]);
    log.info("stopped");
    process.exit(0);
  } catch (err) {
    log.error({ err }, "error during shutdown");
    process.exit(1);
  }
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
