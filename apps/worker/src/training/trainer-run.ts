import path from "node:path";
import { writeFileSync } from "node:fs";
import { describeAutoBatch, type EpochEvent, type TrainerEvent, type TrainingConfig } from "@wyolo/contracts";
import type { JobContext } from "../catalog.ts";
import type { Placement } from "../gpus.ts";
import { epochMetrics } from "../mlflow/tracker.ts";
import type { StopReason } from "../outcome.ts";
import { JobRecorder } from "./job-recorder.ts";
import type { RunDir } from "./run-dir.ts";
import { TrainerProcess, type TrainerExit } from "./trainer-process.ts";
import { dataloaderLimits, formatBytes, type MemoryWatch } from "./memory-watch.ts";
import type { TrainingRuntime } from "./run-training.ts";

export type TrainerRunJob = {
  id: string;
  projectId: string;
  /** Set for a sweep trial: its epochs go to the sweep's pruner. */
  sweepId: string | null;
  trialNumber: number | null;
  bestMetric: number | null;
  bestMetricName: string | null;
  bestEpoch: number | null;
};

/**
 * What WORKER_RAM_MEMORY and WORKER_CPU_CORES mean for each trainer (index.ts builds it):
 * `maxWorkers` caps an asked-for dataloader `workers`, `defaultWorkers` replaces Ultralytics' 8
 * where the config left it out (dataloaderLimits).
 */
export type TrainerLimits = { memory?: MemoryWatch; maxWorkers?: number; defaultWorkers?: number };

/** What a job whose trainer went over WORKER_RAM_MEMORY is told to change. */
export const MEMORY_SUGGESTION = "try a smaller `batch`, `cache: false` or fewer dataloader `workers`";

/**
 * The config the trainer reads: `workers` capped at the job's share of WORKER_CPU_CORES. Ultralytics caps
 * it at the host's CPU count, which a container with `cpus` set still sees whole, so an asked-for value
 * above the share is lowered too. Where the config left `workers` out (`defaulted`), the job's share of
 * the worker's cores replaces Ultralytics' fixed 8. Returns the note for the job's timeline when an asked-for
 * value was lowered, and `info` for its log when the default was sized (nothing the user asked for changed).
 */
export function applyWorkerLimits(
  config: TrainingConfig,
  limits: TrainerLimits | undefined,
  defaulted = false,
): { config: TrainingConfig; note?: string; info?: string } {
  const max = limits?.maxWorkers;
  const fallback = limits?.defaultWorkers;
  if (defaulted && fallback !== undefined) {
    const workers = max === undefined ? fallback : Math.min(fallback, max);
    if (workers === config.train.workers) return { config };
    return {
      config: { ...config, train: { ...config.train, workers } },
      info: `Dataloader workers: ${workers}, this job's share of the worker's CPU cores (one kept for the trainer); the config leaves \`workers\` out, where Ultralytics would take ${config.train.workers}`,
    };
  }
  if (max === undefined || config.train.workers <= max) return { config };
  return {
    config: { ...config, train: { ...config.train, workers: max } },
    note: `Dataloader workers: ${max} instead of ${config.train.workers} (this worker's share of WORKER_CPU_CORES, one kept for the trainer)`,
  };
}

export type TrainerRun = {
  exit: TrainerExit;
  stopReason: StopReason | null;
  finished: Extract<TrainerEvent, { type: "finished" }> | null;
  failed: Extract<TrainerEvent, { type: "failed" }> | null;
  /** Still open: the caller fills it from results.csv and closes it before the job's final state. */
  recorder: JobRecorder;
  /** Checkpoint uploads started during the run (they run one after another). */
  uploads: Promise<unknown>;
  /** This worker lost its hold on the job meanwhile: the trainer was killed, and nothing more may be written. */
  lockLost: boolean;
};

/**
 * The trainer child process from start to exit: its events go to the recorder (epochs, logs),
 * the lifecycle (`started` → RUNNING), MLflow (epoch metrics) and the object store (checkpoints);
 * a sweep trial's epochs go to its pruner; a cancel, a shutdown or the pruner asks it to stop at the
 * next epoch boundary.
 */
export async function runTrainer(
  rt: TrainingRuntime,
  ctx: JobContext,
  run: {
    job: TrainerRunJob;
    config: TrainingConfig;
    /** The config leaves dataloader `workers` out (its sources say Ultralytics' default): the worker sizes it. */
    workersDefaulted?: boolean;
    dirs: RunDir;
    placement: Extract<Placement, { device: string }>;
    inputsEnv: Record<string, string>;
    resumed: boolean;
    /** Epochs already recorded when this attempt began: MLflow has them. */
    lastEpochAtStart: number;
    lastSeq: number;
    /** Called on the trainer's `started` event (the RUNNING transition); awaited before the run returns. */
    onStarted: (ev: Extract<TrainerEvent, { type: "started" }>) => Promise<unknown>;
  },
): Promise<TrainerRun> {
  const { db, env, live } = rt;
  const { job, dirs } = run;
  const log = ctx.log;
  const configFile = path.join(dirs.runDir, "config.json");
  // A caller without limits (index.ts passes dataloaderLimits): the share from WORKER_CONCURRENCY (or 1).
  const limits =
    rt.limits?.defaultWorkers === undefined
      ? { ...rt.limits, defaultWorkers: dataloaderLimits(env.WORKER_CPU_CORES, env.WORKER_CONCURRENCY ?? 1).defaultWorkers }
      : rt.limits;
  const limited = applyWorkerLimits(run.config, limits, run.workersDefaulted);
  writeFileSync(configFile, JSON.stringify(limited.config, null, 2));
  if (limited.note) await rt.lifecycle.note(job.id, { kind: "limits", message: limited.note }).catch(() => {});

  let stopReason: StopReason | null = null;
  let finished: TrainerRun["finished"] = null;
  let failed: TrainerRun["failed"] = null;
  let started: Promise<unknown> = Promise.resolve();
  const trackedEpochs = new Set<number>();
  let uploads: Promise<unknown> = Promise.resolve();
  let lastUpload = 0;
  const uploadLater = (files: string[]) => {
    const store = rt.artifacts;
    if (!store) return;
    // Each upload is skipped once the lease is gone: the new owner's newer files must not be overwritten.
    uploads = uploads
      .then(() => (ctx.lease?.lost() ? undefined : store.upload(job.id, dirs.saveDir, files)))
      .catch((err: Error) => log.warn({ err: { message: err.message } }, "artifact upload failed; retried later"));
  };

  let exited = false;
  const requestStop = (reason: StopReason) => {
    if (stopReason === "shutdown" && reason === "cancel") stopReason = "cancel";
    // A prune is the weakest reason: a cancel or a shutdown replaces it (and brings its kill timer).
    if (stopReason && !(stopReason === "prune" && reason !== "prune")) return;
    // A pruner's answer that arrives after the trainer ended has nothing to stop.
    if (reason === "prune" && exited) return;
    stopReason = reason;
    log.info({ reason }, "asking the trainer to stop at the next epoch boundary");
    if (reason === "prune") {
      // No kill timer: the epoch under way may take long, and a killed trainer would read as a crash.
      try {
        writeFileSync(dirs.stopFile, reason);
      } catch (err) {
        log.warn({ err: { message: (err as Error).message } }, "could not write the stop file");
      }
      return;
    }
    trainer.requestStop(reason, reason === "cancel" ? env.CANCEL_KILL_TIMEOUT_MS : Math.max(1_000, env.SHUTDOWN_TIMEOUT_MS - 5_000));
  };
  const trial = job.sweepId && job.trialNumber !== null ? { sweepId: job.sweepId, jobId: job.id, trialNumber: job.trialNumber } : null;
  const reportTrial = (ev: EpochEvent) => {
    // Epochs a resumed trainer sends again were reported by the attempt that trained them.
    if (!trial || !rt.trials || ev.epoch <= run.lastEpochAtStart || ctx.lease?.lost()) return;
    void rt.trials.report(trial, ev).then((prune) => prune && requestStop("prune"));
  };

  const recorder = new JobRecorder(db, live, job, run.lastSeq, {
    flushMs: env.FLUSH_INTERVAL_MS,
    heartbeatMs: env.HEARTBEAT_INTERVAL_MS,
    maxLogLines: env.MAX_LOG_LINES,
    logLevel: run.config.logging?.level,
    log,
    spillDir: dirs.runDir,
    mayWrite: () => !ctx.lease?.lost(),
    onCancelRequested: () => requestStop("cancel"),
    // Each epoch goes to MLflow once: epochs a resumed trainer sends again are already there.
    onEpoch: (epoch) => {
      if (!rt.tracker || epoch.epoch <= run.lastEpochAtStart || trackedEpochs.has(epoch.epoch)) return;
      trackedEpochs.add(epoch.epoch);
      void rt.tracker
        .enqueue(job.id, [{ kind: "metrics", metrics: epochMetrics(epoch, Date.now()) }])
        .catch((err: Error) => log.warn({ err: { message: err.message } }, "MLflow metrics not queued"));
    },
  });

  const trainer = new TrainerProcess(
    env.TRAINER_COMMAND.split(/\s+/),
    {
      WYOLO_JOB_ID: job.id,
      WYOLO_CONFIG: configFile,
      WYOLO_RUN_DIR: dirs.runDir,
      WYOLO_STOP_FILE: dirs.stopFile,
      WYOLO_EVENTS_FD: "3",
      WYOLO_RESUME: run.resumed ? "1" : "0",
      WYOLO_PROTOCOL_VERSION: "1",
      // The job sees only its own GPUs (none for a CPU job), renumbered from 0.
      CUDA_VISIBLE_DEVICES: run.placement.gpuIndexes.join(","),
      WYOLO_DEVICE: run.placement.device,
      ...run.inputsEnv,
      ...(env.AUTO_BATCH_FRACTION ? { WYOLO_AUTO_BATCH_FRACTION: String(env.AUTO_BATCH_FRACTION) } : {}),
      WYOLO_AUTO_BATCH_MAX: String(env.AUTO_BATCH_MAX),
    },
    dirs.stopFile,
    {
      onEvent: (ev) => {
        switch (ev.type) {
          case "started":
            if (ctx.lease?.lost()) break;
            started = run.onStarted(ev).catch((err: Error) => log.warn({ err: { message: err.message } }, "RUNNING not recorded"));
            break;
          case "epoch":
            recorder.epoch(ev);
            reportTrial(ev);
            break;
          case "log":
            recorder.output("trainer", `[${ev.level}] ${ev.message}`);
            break;
          case "autobatch": {
            // The batch a job trains at is a decision worth its own timeline line, not only a log line.
            const message = describeAutoBatch(ev);
            recorder.output("trainer", `[info] ${message}`);
            if (!ctx.lease?.lost())
              void rt.lifecycle
                .note(job.id, { kind: "autobatch", message })
                .catch((err: Error) => log.warn({ err: { message: err.message } }, "AutoBatch note not recorded"));
            break;
          }
          case "checkpoint":
            if (Date.now() - lastUpload >= env.ARTIFACT_CHECKPOINT_INTERVAL_MS) {
              lastUpload = Date.now();
              // results.csv first: it is never behind the weights stored after it (train.py trims it on resume),
              // and a resume on another host continues it instead of starting it over.
              uploadLater([path.join(dirs.saveDir, "results.csv"), ev.last, ev.best].filter((f): f is string => !!f));
            }
            break;
          case "finished":
            finished = ev;
            break;
          case "failed":
            failed = ev;
            break;
        }
      },
      onOutput: (stream, line) => recorder.output(stream, line),
    },
    log,
    ctx.lifeline,
  );

  rt.active.set(job.id, { requestStop });
  if (limited.info) recorder.output("trainer", `[info] ${limited.info}`);
  recorder.start();
  const onAbort = () => requestStop("shutdown");
  ctx.signal.addEventListener("abort", onAbort);
  // Another worker may own the job now: the trainer goes at once, and the recorder stops writing.
  const onLockLost = () => {
    trainer.killNow();
    void recorder.close(ctx.lease!.signal).catch(() => {});
  };
  ctx.lease?.signal.addEventListener("abort", onLockLost);
  let unwatchMemory = () => {};
  try {
    // A cancel that raced the start is caught here; later ones arrive by pub/sub or at a flush.
    const current = await db.trainingJob.findUnique({ where: { id: job.id }, select: { cancelRequestedAt: true } }).catch(() => null);
    // Lost while the run was prepared: no trainer at all (another worker may be starting its own).
    if (ctx.lease?.lost()) {
      void recorder.close(ctx.lease.signal).catch(() => {});
      return { exit: { code: null, signal: null }, stopReason, finished, failed, recorder, uploads, lockLost: true };
    }
    trainer.start(process.cwd());
    const pid = trainer.pid;
    const memory = rt.limits?.memory;
    if (memory && pid) {
      unwatchMemory = memory.watch(job.id, pid, (used, total) => {
        // Reported as the trainer's own failure: the run's outcome reads it like Ultralytics' CUDA out-of-memory.
        failed = {
          v: 1,
          type: "failed",
          errorClass: "OUT_OF_MEMORY",
          message: `the trainer used ${formatBytes(used)} of memory, taking this worker to ${formatBytes(total)}, over WORKER_RAM_MEMORY (${formatBytes(memory.limitBytes)}); it was stopped`,
          suggestion: MEMORY_SUGGESTION,
        };
        trainer.killTreeNow();
      });
    }
    if (current?.cancelRequestedAt) requestStop("cancel");
    if (rt.isDraining() || ctx.signal.aborted) requestStop("shutdown");
    const exit = await trainer.exited;
    exited = true;
    await started;
    return { exit, stopReason, finished, failed, recorder, uploads, lockLost: !!ctx.lease?.lost() };
  } finally {
    unwatchMemory();
    ctx.lease?.signal.removeEventListener("abort", onLockLost);
    ctx.signal.removeEventListener("abort", onAbort);
    rt.active.delete(job.id);
  }
}
