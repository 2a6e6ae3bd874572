import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { createDb } from "@wyolo/db";
import {
  CANCEL_CHANNEL,
  EXPORT_JOB_NAME,
  exportJobPayloadSchema,
  isWorkerOnline,
  oldVariableWarnings,
  parseEnvOrExit,
  parseWorkerReport,
  SWEEP_JOB_NAME,
  sweepJobPayloadSchema,
  sweepQueueName,
  TRAIN_JOB_NAME,
  trainJobPayloadSchema,
  VALIDATE_DATASET_JOB,
  validateDatasetPayloadSchema,
  workersKey,
  type WorkerReport,
} from "@wyolo/contracts";
import { workerEnvSchema, type WorkerEnv } from "./env.ts";
import { createLogger } from "./logger.ts";
import { Catalog } from "./catalog.ts";
import { LivePublisher } from "./realtime.ts";
import { runTraining, type TrainingRuntime } from "./training/run-training.ts";
import { checkTrainer } from "./training/trainer-check.ts";
import { GpuAllocator, queryGpus } from "./gpus.ts";
import { WorkerReporter } from "./reporter.ts";
import { MlflowClient } from "./mlflow/client.ts";
import { Tracker } from "./mlflow/tracker.ts";
import { RegistryMirror } from "./registry/mirror.ts";
import { ArtifactStore } from "./artifacts/store.ts";
import { runExport } from "./export/run-export.ts";
import { DatasetObjects } from "./datasets/blobs.ts";
import { validateVersion, type ValidationRuntime } from "./datasets/validate-version.ts";
import { workerLifecycle } from "./lifecycle.ts";
import { Leases, lockOptions, stalledHandler } from "./lost-workers.ts";
import { createShutdown, onStopSignals } from "./shutdown.ts";
import { OptunaBridge, optunaStorageUrl } from "./sweeps/optuna-bridge.ts";
import { advanceSweep, type AdvanceDeps } from "./sweeps/advance-sweep.ts";
import { enqueueAdvance, enqueueTrial } from "./sweeps/sweep-queue.ts";
import { SweepTracking } from "./sweeps/sweep-tracking.ts";
import { TrialReporter } from "./sweeps/trial-reporter.ts";
import { dataloaderLimits, MemoryWatch } from "./training/memory-watch.ts";
import { startWebhookDeliveries } from "./webhooks/webhook-worker.ts";

const env: WorkerEnv = parseEnvOrExit(workerEnvSchema, process.env);

const log = createLogger(env.LOG_LEVEL, env.WORKER_NAME);
process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
for (const warning of oldVariableWarnings(process.env)) log.warn(warning);
const gpusAtStart = await queryGpus(env.NVIDIA_SMI);
const concurrency = env.WORKER_CONCURRENCY ?? Math.max(1, gpusAtStart.length);
const db = createDb(env.DATABASE_URL, { poolSize: Math.max(2, concurrency + 2) });
// BullMQ workers block on Redis: no per-request retry limit, reconnect forever.
const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
const subscriber = connection.duplicate();
for (const client of [connection, subscriber])
  client.on("error", (err: Error) => log.warn({ err: { message: err.message } }, "redis error"));

await db.$queryRaw`SELECT 1`.catch((err: Error) => {
  log.fatal({ err: { message: err.message } }, "cannot reach Postgres (DATABASE_URL)");
  process.exit(1);
});

const trainer = env.TRAINER_CHECK ? await checkTrainer(env.TRAINER_COMMAND, log) : { ok: true, details: { skipped: true } };
// The export formats this worker's image can produce (none when its exporter cannot run).
const exporter = await checkTrainer(env.EXPORTER_COMMAND, log, 60_000, "exporter");
// Exports read the weights from the object store and write their output there: without one
// this worker offers none.
const exportFormats: string[] =
  env.S3_ENDPOINT && exporter.ok && Array.isArray(exporter.details.formats)
    ? exporter.details.formats.filter((f): f is string => typeof f === "string")
    : [];
let draining = false;
const allocator = new GpuAllocator({ minFreeMb: env.MIN_FREE_GPU_MEMORY_MB, maxUtilizationPercent: env.MAX_GPU });
const live = new LivePublisher(connection, log);
// Sweeps: advance steps on a queue of their own; trials go on the training queue like any job.
const sweepQueue = new Queue(sweepQueueName(env.TRAINING_QUEUE), { connection });
const trainingQueue = new Queue(env.TRAINING_QUEUE, { connection });
for (const queue of [sweepQueue, trainingQueue])
  queue.on("error", (err: Error) => log.warn({ err: { message: err.message } }, "queue error"));
// One Optuna child per worker process, for the advance step and the per-epoch reports alike.
const bridge = new OptunaBridge({
  command: env.OPTUNA_COMMAND,
  storageUrl: optunaStorageUrl(env.DATABASE_URL),
  timeoutMs: env.OPTUNA_TIMEOUT_MS,
  onLog: (line) => log.debug({ optuna: line }, "optuna bridge"),
});
// Started now, not at the first sweep: Python and Optuna take seconds to load. A worker whose
// Optuna cannot start says so here; its sweep steps fail and are retried (by any worker).
void bridge.hello().then(
  (hello) => log.info({ optuna: hello.optuna, samplers: hello.samplers, importance: hello.importance }, "optuna bridge ready"),
  (err: Error) =>
    log.warn({ err: { message: err.message }, command: env.OPTUNA_COMMAND }, "optuna bridge cannot start: sweeps will not advance here"),
);
const webhooks = startWebhookDeliveries({
  env,
  connection,
  deps: {
    db,
    log,
    workerName: env.WORKER_NAME,
    secretsKey: env.SECRETS_KEY,
    allow: env.WEBHOOK_ALLOWED_HOSTS,
    dashboardUrl: env.DASHBOARD_URL,
  },
});
const lifecycle = workerLifecycle(db, live, log, (sweepId) => enqueueAdvance(sweepQueue, sweepId, "trial-ended"), webhooks.enqueue);
const runtime: TrainingRuntime = {
  env,
  db,
  live,
  lifecycle,
  active: new Map(),
  isDraining: () => draining,
  cannotTrain: () => ("problem" in trainer ? trainer.problem : undefined),
  placeJob: async (jobId, gpus) => allocator.place(jobId, gpus, await queryGpus(env.NVIDIA_SMI)),
  releaseJob: (jobId) => allocator.release(jobId),
  trials: new TrialReporter({ db, bridge, live, log }),
  limits: dataloaderLimits(env.WORKER_CPU_CORES, concurrency),
};
if (env.WORKER_RAM_MEMORY) {
  if (MemoryWatch.available()) runtime.limits!.memory = new MemoryWatch(env.WORKER_RAM_MEMORY, env.MEMORY_CHECK_INTERVAL_MS, log);
  else log.warn("WORKER_RAM_MEMORY is set but this system has no /proc to measure trainers with: it is not enforced here");
}
const artifacts = env.S3_ENDPOINT ? new ArtifactStore({ ...env, S3_ENDPOINT: env.S3_ENDPOINT }, db, log) : undefined;
await artifacts
  ?.ensureBucket()
  .catch((err: Error) => log.warn({ err: { message: err.message } }, "could not check or create the artifact bucket"));
runtime.artifacts = artifacts;
const mlflowClient = env.MLFLOW_TRACKING_URI
  ? new MlflowClient(
      env.MLFLOW_TRACKING_URI,
      env.MLFLOW_TRACKING_USERNAME ? { username: env.MLFLOW_TRACKING_USERNAME, password: env.MLFLOW_TRACKING_PASSWORD ?? "" } : undefined,
    )
  : undefined;
const tracker = mlflowClient
  ? new Tracker(
      db,
      mlflowClient,
      runtime.live,
      env.WORKER_NAME,
      log,
      { intervalMs: 1_000, maxBackoffMs: env.MLFLOW_MAX_BACKOFF_MS, delayedAfterMs: env.MLFLOW_DELAYED_AFTER_MS },
      artifacts,
    )
  : undefined;
runtime.tracker = tracker;
tracker?.start();
// The model registry's outbox, mirrored to MLflow by any worker that has it (rows wait otherwise).
const registryMirror = mlflowClient
  ? new RegistryMirror(db, mlflowClient, log, {
      intervalMs: 1_000,
      maxBackoffMs: env.MLFLOW_MAX_BACKOFF_MS,
      runWaitMs: 10 * 60_000,
      leaseMs: 60_000,
      bucket: env.S3_BUCKET,
    })
  : undefined;
registryMirror?.start();
const reporter = new WorkerReporter(
  connection,
  env,
  concurrency,
  trainer,
  allocator,
  { running: () => [...runtime.active.keys()], draining: () => draining, exportFormats },
  log,
);
/** Whether another online worker reports it can export to `format` (on a GPU, when asked). */
async function otherWorkerCan(format: string, withGpu: boolean): Promise<boolean> {
  const reports = Object.values(await connection.hgetall(workersKey(env.TRAINING_QUEUE)))
    .map(parseWorkerReport)
    .filter((r): r is WorkerReport => r !== null);
  return reports.some(
    (r) => r.name !== env.WORKER_NAME && isWorkerOnline(r) && (r.exportFormats ?? []).includes(format) && (!withGpu || r.gpus.length > 0),
  );
}
const validation: ValidationRuntime = {
  env,
  db,
  objects: env.S3_ENDPOINT ? new DatasetObjects({ ...env, S3_ENDPOINT: env.S3_ENDPOINT }) : undefined,
  publish: (event) => live.datasetVersion(event),
};
const catalog = new Catalog()
  .register(VALIDATE_DATASET_JOB, validateDatasetPayloadSchema, (data, ctx) => validateVersion(data, ctx, validation))
  .register(TRAIN_JOB_NAME, trainJobPayloadSchema, (data, ctx) => runTraining(data, ctx, runtime))
  .register(EXPORT_JOB_NAME, exportJobPayloadSchema, (data, ctx) =>
    runExport(data, ctx, {
      env,
      db,
      live,
      lifecycle,
      artifacts,
      tracker,
      formats: () => exportFormats,
      otherWorkerCan,
      gpuCount: gpusAtStart.length,
      placeJob: runtime.placeJob,
      releaseJob: runtime.releaseJob,
    }),
  );

const sweepDeps: AdvanceDeps = {
  db,
  lifecycle,
  bridge,
  live,
  log,
  enqueueTrial: (jobId, priority) => enqueueTrial(trainingQueue, jobId, priority),
  scheduleAdvance: (sweepId, reason, delayMs, n) => enqueueAdvance(sweepQueue, sweepId, reason, { delayMs, n }),
  requestStop: (jobId) => connection.publish(CANCEL_CHANNEL, jobId),
  tracking: mlflowClient ? new SweepTracking({ db, client: mlflowClient, live, log }) : undefined,
};
const sweepCatalog = new Catalog().register(SWEEP_JOB_NAME, sweepJobPayloadSchema, ({ sweepId }) => advanceSweep(sweepId, sweepDeps));

// Cancels arrive by pub/sub; only the worker running the job acts on one.
await subscriber.subscribe(CANCEL_CHANNEL);
subscriber.on("message", (_channel: string, jobId: string) => runtime.active.get(jobId)?.requestStop("cancel"));

const controllers = new Set<AbortController>();
const leases = new Leases(env.LOCK_DURATION_MS, log);
const worker = new Worker(
  env.TRAINING_QUEUE,
  async (job, token) => {
    const controller = new AbortController();
    controllers.add(controller);
    const lease = leases.hold(job.id!);
    try {
      return await catalog.dispatch({
        job,
        token,
        signal: controller.signal,
        log: log.child({ jobId: job.id }),
        lease,
        lifeline: leases.lifeline(lease),
      });
    } finally {
      lease.release();
      controllers.delete(controller);
    }
  },
  {
    connection,
    concurrency,
    autorun: false,
    ...lockOptions(env),
  },
);
leases.listen(worker);
worker.on("error", (err) => log.error({ err: { message: err.message } }, "worker error"));
worker.on("failed", (job, err) => job && log.warn({ jobId: job.id, reason: err.message }, "job failed"));

// Concurrency 1: steps of one sweep are serialized by its advisory lock anyway, and they never wait for a GPU slot.
const sweepWorker = new Worker(
  sweepQueueName(env.TRAINING_QUEUE),
  (job, token) => sweepCatalog.dispatch({ job, token, signal: new AbortController().signal, log: log.child({ sweepJob: job.id }) }),
  { connection, concurrency: 1, autorun: false },
);
sweepWorker.on("error", (err) => log.error({ err: { message: err.message } }, "sweep worker error"));
sweepWorker.on(
  "failed",
  (job, err) => job && log.warn({ sweepJob: job.id, attempt: job.attemptsMade, reason: err.message }, "sweep step failed"),
);

const onStalled = stalledHandler({ lifecycle, db, maxLosses: env.WORKER_MAX_LOSSES, log });
worker.on(
  "stalled",
  (jobId) =>
    void onStalled(jobId).catch((err: Error) => log.error({ err: { message: err.message }, jobId }, "could not record a stalled job")),
);

await worker.waitUntilReady();
void worker.run();
await sweepWorker.waitUntilReady();
void sweepWorker.run();
await webhooks.start();
reporter.start();
log.info(
  {
    queue: env.TRAINING_QUEUE,
    concurrency,
    memoryLimit: env.WORKER_RAM_MEMORY,
    cpuCores: env.WORKER_CPU_CORES,
    gpus: gpusAtStart.map((g) => `${g.index}: ${g.name}`),
  },
  "worker ready",
);

const shutdown = createShutdown({
  log,
  deadlineMs: env.SHUTDOWN_TIMEOUT_MS,
  stopTaking: () => (draining = true),
  abortRunning: (signal) => {
    for (const c of controllers) c.abort(new Error(signal));
  },
  running: () => runtime.active.size,
  steps: [
    // Waits for running jobs, which hand back at their next epoch boundary.
    { name: "worker", run: () => worker.close() },
    { name: "sweep worker", run: () => sweepWorker.close() },
    // A delivery cut short is attempted again by the next worker's scan (its claim lapses).
    { name: "webhooks", run: () => webhooks.stop() },
    { name: "optuna bridge", run: () => bridge.close() },
    { name: "reporter", run: () => reporter.stop() },
    { name: "memory watch", run: async () => runtime.limits?.memory?.stop() },
    // Unsent MLflow calls stay in the outbox for the worker that resumes or inspects them.
    { name: "tracker", run: async () => tracker?.stop(3_000) },
    { name: "registry mirror", run: async () => registryMirror?.stop(2_000) },
    { name: "queues", run: () => Promise.allSettled([sweepQueue.close(), trainingQueue.close()]) },
    { name: "redis", run: () => Promise.allSettled([subscriber.quit(), connection.quit()]) },
    { name: "postgres", run: () => db.$disconnect().catch(() => {}) },
  ],
  exit: (code) => process.exit(code),
});
onStopSignals(shutdown);
