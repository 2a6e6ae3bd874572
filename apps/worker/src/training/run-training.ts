import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { DelayedError, UnrecoverableError } from "bullmq";
import type { Db } from "@wyolo/db";
import { TERMINAL_STATUSES, type JobStatus, type TrainerEvent, type TrainJobPayload } from "@wyolo/contracts";
import type { JobContext } from "../catalog.ts";
import type { WorkerEnv } from "../env.ts";
import type { LivePublisher } from "../realtime.ts";
import { JobRecorder } from "./job-recorder.ts";
import { TrainerProcess } from "./trainer-process.ts";
import type { Placement } from "../gpus.ts";
import { epochMetrics, type Tracker } from "../mlflow/tracker.ts";
import { configParams } from "../mlflow/client.ts";
import { withRetryWindow, type ArtifactStore } from "../artifacts/store.ts";
import { prepareInputs } from "./inputs.ts";

type StopReason = "cancel" | "shutdown";

/** What the worker process shares with every training it runs. */
export type TrainingRuntime = {
  env: WorkerEnv;
  db: Db;
  live: LivePublisher;
  /** Running trainings by job id, so cancel messages and shutdown can reach them. */
  active: Map<string, { requestStop: (reason: StopReason) => void }>;
  isDraining: () => boolean;
  /** Set when the trainer check failed: why this worker cannot train. */
  cannotTrain: () => string | undefined;
  /** GPUs for a job (or CPU), or why it must wait; released when the job ends. */
  placeJob: (jobId: string, gpus: number | undefined) => Promise<Placement>;
  releaseJob: (jobId: string) => void;
  /** MLflow tracking, when configured. */
  tracker?: Tracker;
  /** The object store for artifacts, when configured. */
  artifacts?: ArtifactStore;
};

const summaryFields = {
  id: true,
  name: true,
  projectId: true,
  status: true,
  attempt: true,
  workerName: true,
  cancelRequestedAt: true,
  config: true,
  bestMetric: true,
  bestMetricName: true,
  bestEpoch: true,
  startedAt: true,
  project: { select: { slug: true, teamId: true, team: { select: { slug: true } } } },
  createdBy: { select: { name: true } },
} as const;

/**
 * Runs one training job: STARTING → trainer child process → RUNNING → SUCCEEDED, FAILED (with
 * the reason and the last output) or CANCELLED. Idempotent: an ended job is not run again; a
 * job picked up again (its worker died or shut down) resumes from its own checkpoint.
 */
export async function runTraining({ jobId }: TrainJobPayload, ctx: JobContext, rt: TrainingRuntime): Promise<{ status: JobStatus }> {
  const { db, env, live } = rt;
  const row = await loadRow(db, jobId);
  // A queue entry whose row is gone (deleted project, failed create) has nothing to run.
  if (!row) throw new UnrecoverableError(`Job ${jobId} has no database row; dropped`);
  if (TERMINAL_STATUSES.includes(row.status)) return { status: row.status };

  const event = async (kind: string, message: string) => {
    const e = await db.jobEvent.create({ data: { jobId, kind, message }, select: { id: true, kind: true, message: true, createdAt: true } });
    live.event(jobId, { ...e, createdAt: e.createdAt.toISOString() });
  };
  // Set once this job's MLflow run is asked for: only then does its end go to MLflow too.
  const tracking = { started: false };
  /** The final status and its timeline entry in one transaction: nobody sees one without the other. */
  const end = async (
    status: "SUCCEEDED" | "FAILED" | "CANCELLED",
    entry: { kind: string; message: string },
    fields: { failureReason?: string; failureClass?: string; logTail?: string; progress?: number } = {},
  ) => {
    const finishedAt = new Date();
    // MLflow's end status is queued before the job's own, so a job that reads as ended has it queued.
    if (tracking.started) {
      await rt.tracker?.enqueue(jobId, [{ kind: "status", status: status === "SUCCEEDED" ? "FINISHED" : status === "FAILED" ? "FAILED" : "KILLED", endTime: finishedAt.getTime() }]);
    }
    const [, e] = await db.$transaction([
      db.trainingJob.update({ where: { id: jobId }, data: { status, finishedAt, etaSeconds: null, ...fields } }),
      db.jobEvent.create({ data: { jobId, kind: entry.kind, message: entry.message.slice(0, 500) }, select: { id: true, kind: true, message: true, createdAt: true } }),
    ]);
    live.jobUpdated({ id: jobId, projectId: row.projectId, status, finishedAt: finishedAt.toISOString(), etaSeconds: null, failureReason: fields.failureReason ?? null, ...(fields.progress !== undefined ? { progress: fields.progress } : {}) });
    live.event(jobId, { ...e, createdAt: e.createdAt.toISOString() });
  };

  if (row.cancelRequestedAt) {
    await end("CANCELLED", { kind: "cancelled", message: "Cancelled before it started" });
    return { status: "CANCELLED" };
  }
  const problem = rt.cannotTrain();
  if (problem) {
    const reason = `Worker ${env.WORKER_NAME} cannot train: ${problem}`;
    await end("FAILED", { kind: "failed", message: reason }, { failureReason: reason.slice(0, 2000), failureClass: "UNKNOWN" });
    throw new UnrecoverableError(reason);
  }

  const placement = await rt.placeJob(jobId, (row.config as { gpus?: number }).gpus);
  if ("waitReason" in placement) {
    // Not here, not now: back to the queue, where this or another worker takes it later.
    const last = await db.jobEvent.findFirst({ where: { jobId }, orderBy: { createdAt: "desc" }, select: { kind: true } });
    if (last?.kind !== "waiting") await event("waiting", `Waiting for a GPU: ${env.WORKER_NAME} ${placement.waitReason}`);
    await ctx.job.moveToDelayed(Date.now() + env.GPU_WAIT_RETRY_MS, ctx.token);
    throw new DelayedError();
  }
  try {
    return await train(row, placement, ctx, rt, event, end, tracking);
  } finally {
    rt.releaseJob(jobId);
  }
}

type Row = NonNullable<Awaited<ReturnType<typeof loadRow>>>;
const loadRow = (db: Db, jobId: string) => db.trainingJob.findUnique({ where: { id: jobId }, select: summaryFields });

async function train(
  row: Row,
  placement: Extract<Placement, { device: string }>,
  ctx: JobContext,
  rt: TrainingRuntime,
  event: (kind: string, message: string) => Promise<void>,
  end: (status: "SUCCEEDED" | "FAILED" | "CANCELLED", entry: { kind: string; message: string }, fields?: { failureReason?: string; failureClass?: string; logTail?: string; progress?: number }) => Promise<void>,
  tracking: { started: boolean },
): Promise<{ status: JobStatus }> {
  const { db, env, live } = rt;
  const log = ctx.log;
  const jobId = row.id;
  const resumed = row.attempt > 0;
  const attempt = row.attempt + 1;
  const startedAt = row.startedAt ?? new Date();
  await db.trainingJob.update({ where: { id: jobId }, data: { status: "STARTING", workerName: env.WORKER_NAME, attempt, startedAt, heartbeatAt: new Date() } });
  live.jobUpdated({ id: jobId, projectId: row.projectId, status: "STARTING", workerName: env.WORKER_NAME, attempt, startedAt: startedAt.toISOString() });
  const where = placement.gpuIndexes.length ? `GPU ${placement.gpuIndexes.join(",")}` : "CPU";
  await event(resumed ? "resumed" : "starting", resumed ? `Picked up again by ${env.WORKER_NAME} (${where}, attempt ${attempt}); resuming from its checkpoint` : `Starting on ${env.WORKER_NAME} (${where})`);

  // MLflow: the run is created (or set RUNNING again on resume) through the tracker's outbox.
  const lastEpochAtStart = (await db.jobEpoch.aggregate({ where: { jobId }, _max: { epoch: true } }))._max.epoch ?? 0;
  if (rt.tracker) {
    tracking.started = true;
    const config = row.config as { model: string; type: string; task: string; gpus?: number; train: Record<string, unknown> };
    if (resumed) await rt.tracker.adopt(jobId);
    await rt.tracker.enqueue(jobId, [
      {
        kind: "start",
        experimentName: `${row.project.team.slug}/${row.project.slug}`,
        experimentTags: [{ key: "wyolo.project_id", value: row.projectId }],
        runName: row.name,
        startTime: (row.startedAt ?? new Date()).getTime(),
        tags: [
          { key: "wyolo.job_id", value: jobId },
          { key: "wyolo.project", value: row.project.slug },
          { key: "wyolo.team", value: row.project.team.slug },
          { key: "mlflow.user", value: row.createdBy.name },
          { key: "wyolo.model", value: config.model },
          { key: "wyolo.task", value: config.task },
          { key: "wyolo.dataset", value: String(config.train.data) },
          { key: "wyolo.worker", value: env.WORKER_NAME },
          { key: "wyolo.gpu", value: placement.gpuIndexes.length ? placement.gpuIndexes.join(",") : "cpu" },
        ],
      },
      // A resumed job continues its own run: its params are already there and must not change.
      ...(resumed ? [] : [{ kind: "params" as const, params: configParams(config) }]),
    ]);
  }
  const trackedEpochs = new Set<number>();

  // Artifacts: weights go up while training (at most every ARTIFACT_CHECKPOINT_INTERVAL_MS, so a
  // crash never loses everything) and the whole run at the end. Uploads run one after another.
  const saveDir = path.resolve(env.WORKER_DATA_DIR, "jobs", jobId, "train");
  let uploads: Promise<unknown> = Promise.resolve();
  let lastUpload = 0;
  const uploadLater = (files?: string[]) => {
    if (!rt.artifacts) return;
    uploads = uploads.then(() => rt.artifacts!.upload(jobId, saveDir, files)).catch((err: Error) => log.warn({ err: { message: err.message } }, "artifact upload failed; retried later"));
  };

  const runDir = path.resolve(env.WORKER_DATA_DIR, "jobs", jobId);
  mkdirSync(runDir, { recursive: true });
  // Picked up again on a worker whose disk lacks the job's checkpoint (another host): the last
  // one uploaded to the object store lets it resume rather than start over.
  if (resumed && rt.artifacts && !existsSync(path.join(saveDir, "weights", "last.pt"))) {
    const names = ["weights/last.pt", "weights/best.pt", "results.csv", "args.yaml"];
    // A brief object-store hiccup is waited out (a minute) rather than costing the whole run.
    const restored = await withRetryWindow(() => rt.artifacts!.restore(jobId, saveDir, names), 60_000).catch(async (err: Error): Promise<string[]> => {
      log.warn({ err: { message: err.message } }, "could not restore the checkpoint from the object store");
      rmSync(saveDir, { recursive: true, force: true });
      await event("checkpoint-unavailable", `Could not restore the checkpoint from the object store (${err.message.slice(0, 200)}); training starts over`);
      return [];
    });
    if (restored.includes("weights/last.pt")) await event("checkpoint-restored", `No local checkpoint on ${env.WORKER_NAME}: resuming from the last one in the object store`);
  }
  // Every file the trainer will read, checked (and job references fetched) before it starts.
  const inputs = await prepareInputs({ id: jobId, teamId: row.project.teamId, config: row.config }, runDir, { env, db, store: rt.artifacts, log });
  if ("problem" in inputs) {
    await end("FAILED", { kind: "failed", message: inputs.problem }, { failureReason: inputs.problem.slice(0, 2000), failureClass: inputs.failureClass });
    throw new UnrecoverableError(`${inputs.failureClass}: ${inputs.problem}`);
  }
  for (const note of inputs.notes) await event("inputs", note);
  const stopFile = path.join(runDir, "STOP");
  rmSync(stopFile, { force: true });
  const configFile = path.join(runDir, "config.json");
  writeFileSync(configFile, JSON.stringify(row.config, null, 2));

  const lastSeq = (await db.jobLog.aggregate({ where: { jobId }, _max: { seq: true } }))._max.seq ?? 0;
  let stopReason: StopReason | null = null;
  let finished: Extract<TrainerEvent, { type: "finished" }> | null = null;
  let failed: Extract<TrainerEvent, { type: "failed" }> | null = null;

  const requestStop = (reason: StopReason) => {
    if (stopReason === "shutdown" && reason === "cancel") stopReason = "cancel";
    if (stopReason) return;
    stopReason = reason;
    log.info({ reason }, "asking the trainer to stop at the next epoch boundary");
    trainer.requestStop(reason, reason === "cancel" ? env.CANCEL_KILL_TIMEOUT_MS : Math.max(1_000, env.SHUTDOWN_TIMEOUT_MS - 5_000));
  };

  const recorder = new JobRecorder(db, live, row, lastSeq, {
    flushMs: env.FLUSH_INTERVAL_MS,
    heartbeatMs: env.HEARTBEAT_INTERVAL_MS,
    maxLogLines: env.MAX_LOG_LINES,
    log,
    onCancelRequested: () => requestStop("cancel"),
    // Each epoch goes to MLflow once: epochs a resumed trainer sends again are already there.
    onEpoch: (epoch) => {
      if (!rt.tracker || epoch.epoch <= lastEpochAtStart || trackedEpochs.has(epoch.epoch)) return;
      trackedEpochs.add(epoch.epoch);
      void rt.tracker.enqueue(jobId, [{ kind: "metrics", metrics: epochMetrics(epoch, Date.now()) }]).catch((err: Error) => log.warn({ err: { message: err.message } }, "MLflow metrics not queued"));
    },
  });

  const trainer = new TrainerProcess(
    env.TRAINER_COMMAND.split(/\s+/),
    {
      WYOLO_JOB_ID: jobId,
      WYOLO_CONFIG: configFile,
      WYOLO_RUN_DIR: runDir,
      WYOLO_STOP_FILE: stopFile,
      WYOLO_EVENTS_FD: "3",
      WYOLO_RESUME: resumed ? "1" : "0",
      WYOLO_PROTOCOL_VERSION: "1",
      // The job sees only its own GPUs (none for a CPU job), renumbered from 0.
      CUDA_VISIBLE_DEVICES: placement.gpuIndexes.join(","),
      WYOLO_DEVICE: placement.device,
      ...inputs.env,
      ...(env.AUTO_BATCH_FRACTION ? { WYOLO_AUTO_BATCH_FRACTION: String(env.AUTO_BATCH_FRACTION) } : {}),
    },
    stopFile,
    {
      onEvent: (ev) => {
        switch (ev.type) {
          case "started":
            recorder.update({ status: "RUNNING", totalEpochs: ev.totalEpochs });
            void event("running", `Training${ev.resumed ? " resumed" : ""}: epochs ${ev.startEpoch}–${ev.totalEpochs}${ev.batch ? `, batch ${ev.batch}` : ""}${ev.device ? ` on ${ev.device}` : ""}`).catch(() => {});
            break;
          case "epoch":
            recorder.epoch(ev);
            break;
          case "log":
            recorder.output("trainer", `[${ev.level}] ${ev.message}`);
            break;
          case "checkpoint":
            if (Date.now() - lastUpload >= env.ARTIFACT_CHECKPOINT_INTERVAL_MS) {
              lastUpload = Date.now();
              // results.csv too: a resume on another host continues it instead of starting it over.
              // (results.csv first: it is never behind the weights stored after it; train.py trims it on resume.)
              uploadLater([path.join(saveDir, "results.csv"), ev.last, ev.best].filter((f): f is string => !!f));
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
  );

  rt.active.set(jobId, { requestStop });
  recorder.start();
  const onAbort = () => requestStop("shutdown");
  ctx.signal.addEventListener("abort", onAbort);
  // A cancel that raced the start is caught here; later ones arrive by pub/sub or at a flush.
  const current = await db.trainingJob.findUnique({ where: { id: jobId }, select: { cancelRequestedAt: true } });
  trainer.start(process.cwd());
  if (current?.cancelRequestedAt) requestStop("cancel");
  if (rt.isDraining()) requestStop("shutdown");

  const exit = await trainer.exited;
  ctx.signal.removeEventListener("abort", onAbort);
  rt.active.delete(jobId);
  await recorder.close();
  const tail = recorder.tail();
  if (rt.artifacts && stopReason !== "shutdown") {
    await uploads;
    // An object store that is away now is waited for (ARTIFACT_RETRY_WINDOW_MS) before giving up.
    const failure = await rt.artifacts
      .uploadPatiently(jobId, saveDir, env.ARTIFACT_RETRY_WINDOW_MS, (err, attempt) => {
        log.warn({ err: { message: err.message }, attempt }, "artifact upload failed; retrying");
        if (attempt === 1) void event("artifacts-retry", `The object store is unavailable (${err.message.slice(0, 200)}); retrying the upload`).catch(() => {});
      })
      .then(() => null, (err: Error) => err);
    const stored = await db.jobArtifact.findMany({ where: { jobId }, orderBy: { name: "asc" }, select: { name: true, storageKey: true } });
    if (failure) {
      log.error({ err: { message: failure.message } }, "artifacts not stored");
      await event("artifacts-failed", `Artifacts not stored (${failure.message.slice(0, 200)}); the run's files stay in ${env.WORKER_NAME}'s data directory`);
    } else if (stored.length) {
      await event("artifacts", `${stored.length} artifact${stored.length === 1 ? "" : "s"} stored`);
    }
    live.artifactsChanged(jobId);
    // The run's files go to its MLflow run too (through the outbox, before the run's end status).
    if (tracking.started && rt.tracker && stored.length) {
      await rt.tracker.enqueue(jobId, stored.map((a) => ({ kind: "artifact" as const, name: a.name, storageKey: a.storageKey })));
    }
  }
  const fin = finished as Extract<TrainerEvent, { type: "finished" }> | null;
  const fail = failed as Extract<TrainerEvent, { type: "failed" }> | null;
  log.info({ exit, stopReason, finished: fin?.reason, failed: fail?.errorClass }, "trainer exited");

  if (stopReason === "shutdown") {
    // Put the job back for another worker (or this one, restarted) to resume from its checkpoint.
    await db.trainingJob.update({ where: { id: jobId }, data: { status: "QUEUED", etaSeconds: null } });
    live.jobUpdated({ id: jobId, projectId: row.projectId, status: "QUEUED", etaSeconds: null });
    await event("requeued", `${env.WORKER_NAME} is shutting down; the job goes back to the queue and resumes from its checkpoint`);
    await ctx.job.moveToDelayed(Date.now(), ctx.token);
    throw new DelayedError();
  }
  if (stopReason === "cancel") {
    await end("CANCELLED", { kind: "cancelled", message: fin?.reason === "cancelled" ? "Stopped at an epoch boundary and cancelled" : "Cancelled (the trainer was stopped)" });
    return { status: "CANCELLED" };
  }
  if (exit.spawnError) {
    const reason = `The trainer could not be started (${env.TRAINER_COMMAND.split(/\s+/)[0]}): ${exit.spawnError}`;
    await end("FAILED", { kind: "failed", message: reason }, { failureReason: reason, failureClass: "UNKNOWN" });
    throw new UnrecoverableError(reason);
  }
  if (exit.code === 0 && fin && !fail) {
    await end("SUCCEEDED", { kind: "succeeded", message: fin.reason === "early_stopped" ? "Finished early: no improvement within `patience`" : "Finished" }, { progress: 1 });
    return { status: "SUCCEEDED" };
  }
  // Trainer errors (bad dataset, bad argument, out of memory, crash) are final: no retry.
  const reason = fail
    ? `${fail.errorClass}: ${fail.message}${fail.suggestion ? ` (${fail.suggestion})` : ""}`
    : exit.code === 0
      ? "The trainer exited without reporting a result"
      : `The trainer crashed (${exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`})`;
  await end("FAILED", { kind: "failed", message: reason }, { failureReason: reason.slice(0, 2000), failureClass: fail?.errorClass ?? "UNKNOWN", logTail: tail });
  throw new UnrecoverableError(reason);
}
