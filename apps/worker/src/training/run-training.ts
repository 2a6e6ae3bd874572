import path from "node:path";
import { DelayedError, UnrecoverableError } from "bullmq";
import { isDatabaseUnavailable, type Db, type Lifecycle, type Prisma } from "@wyolo/db";
import {
  objectiveValue,
  TERMINAL_STATUSES,
  ULTRALYTICS_DEFAULT,
  type FailureClass,
  type JobStatus,
  type SweepSettings,
  type TrainJobPayload,
  type TrainingConfig,
} from "@wyolo/contracts";
import type { JobContext } from "../catalog.ts";
import type { WorkerEnv } from "../env.ts";
import type { LivePublisher } from "../realtime.ts";
import type { Placement } from "../gpus.ts";
import type { Tracker } from "../mlflow/tracker.ts";
import type { ArtifactStore } from "../artifacts/store.ts";
import { decideOutcome, type StopReason } from "../outcome.ts";
import { requeueLater } from "../requeue.ts";
import { judgeLoss } from "../lost-workers.ts";
import { checkStoredConfig, prepareInputs } from "./inputs.ts";
import { prepareRunDir } from "./run-dir.ts";
import { startTracking } from "./tracking.ts";
import { runTrainer, type TrainerLimits } from "./trainer-run.ts";
import { ResourceSampler } from "./resource-sampler.ts";
import type { TrialReporter } from "../sweeps/trial-reporter.ts";

/** What the worker process shares with every training it runs. */
export type TrainingRuntime = {
  env: WorkerEnv;
  db: Db;
  live: LivePublisher;
  /** Every status change of a training goes through it. */
  lifecycle: Lifecycle;
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
  /** WORKER_RAM_MEMORY's watch over the trainers, and WORKER_CPU_CORES' cap on a job's dataloader `workers`. */
  limits?: TrainerLimits;
  /** Reports sweep trials' epochs to their Optuna study (and hears the pruner), when the worker runs sweeps. */
  trials?: TrialReporter;
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
  configSources: true,
  bestMetric: true,
  bestMetricName: true,
  bestEpoch: true,
  startedAt: true,
  sweepId: true,
  trialNumber: true,
  sweep: { select: { mlflowRunId: true } },
  project: { select: { slug: true, teamId: true, team: { select: { slug: true } } } },
  createdBy: { select: { name: true } },
} as const;

/** The queue entry's mark for a hand-back while Postgres was unavailable (cleared at the next pickup). */
const OUTAGE_HAND_BACK = { handedBack: "postgres-unavailable" } as const;
const handedBackForOutage = (progress: unknown) =>
  typeof progress === "object" && progress !== null && (progress as { handedBack?: unknown }).handedBack === OUTAGE_HAND_BACK.handedBack;

type Row = NonNullable<Awaited<ReturnType<typeof loadRow>>>;
const loadRow = (db: Db, jobId: string) => db.trainingJob.findUnique({ where: { id: jobId }, select: summaryFields });
type Final = "SUCCEEDED" | "FAILED" | "CANCELLED";
type Failure = { failureReason?: string; failureClass?: FailureClass; logTail?: string };
type EndFields = Failure & { progress?: number; prunedAtEpoch?: number; classMetrics?: Prisma.InputJsonValue };

/** Whether the job's config left dataloader `workers` out (its sources say Ultralytics' default filled it). */
export function workersLeftOut(sources: unknown): boolean {
  return typeof sources === "object" && sources !== null && (sources as Record<string, unknown>)["train.workers"] === ULTRALYTICS_DEFAULT;
}

/** An objective for a timeline line: 4 significant digits, as the web shows metrics. */
const formatObjective = (v: number) => String(Number(v.toPrecision(4)));

/**
 * Runs one training job: STARTING → trainer child process → RUNNING → SUCCEEDED, FAILED (with
 * the reason and the last output) or CANCELLED. Idempotent: an ended job is not run again; a
 * job picked up again (its worker died or shut down) resumes from its own checkpoint.
 */
export async function runTraining(payload: TrainJobPayload, ctx: JobContext, rt: TrainingRuntime): Promise<{ status: JobStatus }> {
  try {
    return await runTrainingOnce(payload, ctx, rt);
  } catch (err) {
    // Postgres away at an edge of the run (pickup, preparation, the final state): not a worker
    // loss, and not BullMQ's retry either. The entry goes back as it is; the row is left alone.
    if (!isDatabaseUnavailable(err)) throw err;
    // Not ours any more: the queue entry is another worker's to move.
    if (ctx.lease?.lost()) throw new DelayedError("lock lost");
    ctx.log.warn({ err: { message: (err as Error).message } }, "Postgres unavailable; the job goes back to the queue for a later try");
    // The row may still say STARTING/RUNNING on this worker: the next pickup takes it over without counting a worker loss.
    await ctx.job.updateProgress(OUTAGE_HAND_BACK).catch(() => {});
    return requeueLater(ctx.job, ctx.token, 5_000);
  }
}

async function runTrainingOnce({ jobId }: TrainJobPayload, ctx: JobContext, rt: TrainingRuntime): Promise<{ status: JobStatus }> {
  const { db, env } = rt;
  const row = await loadRow(db, jobId);
  // A queue entry whose row is gone (deleted project, failed create) has nothing to run.
  if (!row) throw new UnrecoverableError(`Job ${jobId} has no database row; dropped`);
  if (TERMINAL_STATUSES.includes(row.status)) return { status: row.status };
  const run = new TrainingRun(row, ctx, rt);

  if (row.cancelRequestedAt) return run.end("CANCELLED", "Cancelled before it started");
  const problem = rt.cannotTrain();
  if (problem) return run.fail(`Worker ${env.WORKER_NAME} cannot train: ${problem}`, "UNKNOWN");
  const checked = checkStoredConfig(row.config);
  if ("problem" in checked) return run.fail(checked.problem, checked.failureClass);

  const placement = await rt.placeJob(jobId, checked.config.gpus);
  if ("waitReason" in placement) {
    // Not here, not now: back to the queue, where this or another worker takes it later.
    const last = await db.jobEvent.findFirst({ where: { jobId }, orderBy: { createdAt: "desc" }, select: { kind: true } });
    if (last?.kind !== "waiting") await run.note("waiting", `Waiting for a GPU: ${env.WORKER_NAME} ${placement.waitReason}`);
    return requeueLater(ctx.job, ctx.token, env.GPU_WAIT_RETRY_MS);
  }
  try {
    return await run.train(checked.config, placement);
  } finally {
    rt.releaseJob(jobId);
  }
}

/** One attempt at a training, phase by phase; every status change goes through the lifecycle. */
class TrainingRun {
  /** Set once this job's MLflow run is asked for: only then does its end go to MLflow too. */
  private tracking = false;
  /** The row's attempt as this worker knows it (its own from pickup on): its writes apply only while the row still has it. */
  private attempt: number;

  constructor(
    private readonly row: Row,
    private readonly ctx: JobContext,
    private readonly rt: TrainingRuntime,
  ) {
    this.attempt = row.attempt;
  }

  /** Still this worker's job: its lock held, the row not picked up by another worker since. */
  private get owned() {
    return { attempt: this.attempt };
  }

  note(kind: string, message: string) {
    return this.rt.lifecycle.note(this.row.id, { kind, message });
  }

  /** The final status and its timeline entry (one transaction); MLflow's end status is queued first. */
  async end(status: Final, message: string, fields: EndFields = {}, entryKind = status.toLowerCase()): Promise<{ status: JobStatus }> {
    if (this.ctx.lease?.lost()) return this.lockLost();
    const finishedAt = new Date();
    if (this.tracking) {
      await this.rt.tracker?.enqueue(this.row.id, [
        {
          kind: "status",
          status: status === "SUCCEEDED" ? "FINISHED" : status === "FAILED" ? "FAILED" : "KILLED",
          endTime: finishedAt.getTime(),
        },
      ]);
    }
    const result = await this.rt.lifecycle.transition({
      kind: "training",
      id: this.row.id,
      to: status,
      cause: "worker",
      where: this.owned,
      data: { finishedAt, etaSeconds: null, ...fields },
      entry: { kind: entryKind, message },
    });
    if (!result.applied) this.ctx.log.warn({ to: status, status: result.status }, "final status not written: the row moved on");
    return { status: result.applied ? status : (result.status ?? status) };
  }

  /** Trainer and input errors are final: no retry. */
  async fail(reason: string, failureClass: FailureClass, logTail?: string): Promise<never> {
    await this.end("FAILED", reason, { failureReason: reason.slice(0, 2000), failureClass, ...(logTail !== undefined ? { logTail } : {}) });
    throw new UnrecoverableError(reason);
  }

  async train(config: TrainingConfig, placement: Extract<Placement, { device: string }>): Promise<{ status: JobStatus }> {
    const { db, env, lifecycle } = this.rt;
    const { row, ctx } = this;
    const jobId = row.id;
    const resumed = row.attempt > 0;
    const attempt = row.attempt + 1;
    const where = placement.gpuIndexes.length ? `GPU ${placement.gpuIndexes.join(",")}` : "CPU";
    const starting = await this.pickUp(
      { startedAt: row.startedAt ?? new Date() },
      resumed
        ? { kind: "resumed", message: `Picked up again by ${env.WORKER_NAME} (${where}, attempt ${attempt}); resuming from its checkpoint` }
        : { kind: "starting", message: `Starting on ${env.WORKER_NAME} (${where})` },
    );
    if (starting) return starting;

    const lastEpochAtStart = (await db.jobEpoch.aggregate({ where: { jobId }, _max: { epoch: true } }))._max.epoch ?? 0;
    if (this.rt.tracker) {
      this.tracking = true;
      await startTracking(this.rt.tracker, row, config, { workerName: env.WORKER_NAME, gpuIndexes: placement.gpuIndexes, resumed });
    }
    const dirs = await prepareRunDir(env, jobId, resumed, {
      artifacts: this.rt.artifacts,
      log: ctx.log,
      note: (kind, message) => this.note(kind, message),
    });
    // Every file the trainer will read, checked (and job references fetched) before it starts.
    const inputs = await prepareInputs({ id: jobId, teamId: row.project.teamId, config }, dirs.runDir, {
      env,
      db,
      store: this.rt.artifacts,
      log: ctx.log,
    });
    if ("problem" in inputs) return this.fail(inputs.problem, inputs.failureClass);
    // The job's hold on its cached dataset version ends with the trainer (so the cache may evict it
    // later), or with whatever throws before it: a hold left behind would last until the worker restarts.
    let trained: Awaited<ReturnType<typeof runTrainer>>;
    try {
      for (const note of inputs.notes) await this.note("inputs", note);

      const lastSeq = (await db.jobLog.aggregate({ where: { jobId }, _max: { seq: true } }))._max.seq ?? 0;
      const resources = new ResourceSampler({
        db,
        live: this.rt.live,
        log: ctx.log,
        jobId,
        gpuIndexes: placement.gpuIndexes,
        nvidiaSmi: env.NVIDIA_SMI,
        workerCores: env.WORKER_CPU_CORES,
        mayWrite: () => !ctx.lease?.lost(),
        intervalMs: env.RESOURCE_SAMPLE_MS,
        maxRows: env.RESOURCE_MAX_ROWS,
      });
      resources.start();
      trained = await runTrainer(this.rt, ctx, {
        job: row,
        config,
        workersDefaulted: workersLeftOut(row.configSources),
        dirs,
        placement,
        inputsEnv: inputs.env,
        resumed,
        lastEpochAtStart,
        lastSeq,
        onStarted: (ev) =>
          lifecycle.transition({
            kind: "training",
            id: jobId,
            to: "RUNNING",
            cause: "worker",
            where: this.owned,
            data: { totalEpochs: ev.totalEpochs },
            entry: {
              kind: "running",
              message: `Training${ev.resumed ? " resumed" : ""}: epochs ${ev.startEpoch}–${ev.totalEpochs}${ev.batch ? `, batch ${ev.batch}` : ""}${ev.device ? ` on ${ev.device}` : ""}`,
            },
          }),
      })
        // The samples end with the trainer: a few seconds for their last write, never the job's end held up for it.
        .finally(() => resources.stop(AbortSignal.timeout(5_000)));
    } finally {
      inputs.release?.();
    }
    if (trained.lockLost) return this.lockLost();
    const { recorder, stopReason } = trained;
    // The final validation's per-class scores go with the final state (a resume that finds the run ended sends them again).
    const classes: EndFields = trained.finished?.classes ? { classMetrics: trained.finished.classes as Prisma.InputJsonValue } : {};
    const outcome = decideOutcome({
      child: "trainer",
      program: env.TRAINER_COMMAND.split(/\s+/)[0] ?? "",
      exit: trained.exit,
      stopReason,
      succeeded: !!trained.finished,
      finishedReason: trained.finished?.reason,
      failed: trained.failed,
    });
    ctx.log.info(
      { exit: trained.exit, stopReason, finished: trained.finished?.reason, failed: trained.failed?.errorClass, outcome: outcome.status },
      "trainer exited",
    );

    // Everything the run produced is in Postgres before its final state: epochs missing after an
    // outage come from its own results.csv. A shutdown waits only so long; the spill file keeps the rest.
    await recorder.fillFromResultsCsv(path.join(dirs.saveDir, "results.csv"));
    // The lease's end stops close() too: past it the recorder writes nothing, so it would wait forever.
    const closeBy = stopReason === "shutdown" ? AbortSignal.timeout(Math.max(1_000, env.SHUTDOWN_TIMEOUT_MS / 3)) : ctx.signal;
    const recorded = await recorder.close(ctx.lease ? AbortSignal.any([closeBy, ctx.lease.signal]) : closeBy).then(
      () => true,
      (err: Error) => {
        ctx.log.warn({ err: { message: err.message } }, "recording not finished; the spill file keeps it for the next attempt");
        return false;
      },
    );
    if (ctx.lease?.lost()) return this.lockLost();
    if (outcome.status === "QUEUED" || !recorded)
      return this.handBack(stopReason === "shutdown" || outcome.status !== "QUEUED" ? undefined : outcome.message);
    if (stopReason !== "shutdown") await this.storeArtifacts(dirs.saveDir, trained.uploads);
    if (ctx.lease?.lost()) return this.lockLost();
    if (outcome.status === "FAILED") return this.fail(outcome.message, outcome.failureClass, recorder.tail());
    if (outcome.status === "SUCCEEDED" && outcome.pruned) return this.endPruned(classes);
    return this.end(outcome.status, outcome.message, outcome.status === "SUCCEEDED" ? { progress: 1, ...classes } : classes);
  }

  /** A sweep trial its pruner stopped: trained as far as its sweep wanted, at the last epoch it recorded. */
  private async endPruned(classes: EndFields): Promise<{ status: JobStatus }> {
    const { db } = this.rt;
    const last = await db.jobEpoch.findFirst({
      where: { jobId: this.row.id },
      orderBy: { epoch: "desc" },
      select: { epoch: true, metrics: true, losses: true },
    });
    const sweep = this.row.sweepId ? await db.sweep.findUnique({ where: { id: this.row.sweepId }, select: { settings: true } }) : null;
    const objective = (sweep?.settings as SweepSettings | undefined)?.objective;
    const value =
      last && objective
        ? objectiveValue(objective, last as { metrics: Record<string, number | null>; losses: Record<string, number | null> })
        : null;
    const message = last
      ? `Pruned by the sweep at epoch ${last.epoch}${value === null ? "" : ` (objective ${formatObjective(value)})`}`
      : "Pruned by the sweep";
    return this.end("SUCCEEDED", message, { progress: 1, prunedAtEpoch: last?.epoch ?? 0, ...classes }, "pruned");
  }

  /**
   * STARTING on this worker. Normally from QUEUED; a row still STARTING/RUNNING means its last
   * run was handed back while Postgres was away (the entry's mark says so: no loss), or its
   * worker was lost and this pickup beat the stalled handler to it: the loss is recorded (and
   * counted, failing the job past WORKER_MAX_LOSSES) here instead, exactly once, since each
   * transition applies only from the status it expects. Returns the status when not picked up.
   */
  private async pickUp(data: { startedAt: Date }, entry: { kind: string; message: string }): Promise<{ status: JobStatus } | null> {
    const { env, lifecycle, db } = this.rt;
    const id = this.row.id;
    const onWorker = { status: { in: ["STARTING", "RUNNING"] as JobStatus[] } };
    const outage = handedBackForOutage(this.ctx.job.progress);
    for (;;) {
      // The attempt goes up in the same update: each pickup's number is its own, whatever this worker read before.
      const fields = { ...data, attempt: { increment: 1 }, workerName: env.WORKER_NAME, heartbeatAt: new Date() };
      const picked = await lifecycle.transition({
        kind: "training",
        id,
        to: "STARTING",
        cause: "worker",
        where: { status: "QUEUED" },
        data: fields,
        entry,
      });
      if (picked.applied) {
        this.attempt = picked.row.attempt;
        await this.clearOutageMark(outage);
        return null;
      }
      // QUEUED by now: the stalled handler got there between the update and the read; try again.
      if (picked.status === "QUEUED") continue;
      if (picked.status !== "STARTING" && picked.status !== "RUNNING") return { status: picked.status ?? this.row.status };
      if (outage) {
        // Its last run handed it back while Postgres was away, leaving the row on its worker: no loss.
        const taken = await lifecycle.transition({
          kind: "training",
          id,
          to: "STARTING",
          cause: "worker",
          where: onWorker,
          data: fields,
          entry,
        });
        if (!taken.applied) continue;
        this.attempt = taken.row.attempt;
        await this.clearOutageMark(outage);
        return null;
      }
      const { losses, failure } = await judgeLoss(db, id, env.WORKER_MAX_LOSSES);
      if (failure) {
        const failed = await lifecycle.transition({
          kind: "training",
          id,
          to: "FAILED",
          cause: "stalled",
          where: onWorker,
          data: { ...failure, finishedAt: new Date(), etaSeconds: null },
          entry: (row) => ({ kind: "failed", message: `Worker ${row.workerName ?? "?"} stopped responding. ${failure.failureReason}` }),
        });
        if (failed.applied) return { status: "FAILED" };
        continue;
      }
      const lost = await lifecycle.transition({
        kind: "training",
        id,
        to: "STARTING",
        cause: "worker",
        where: onWorker,
        data: fields,
        entry: (row) => ({
          kind: "stalled",
          message: `Worker ${row.workerName ?? "?"} stopped responding; the job was picked up again (worker loss ${losses} of ${env.WORKER_MAX_LOSSES} allowed)`,
        }),
      });
      if (!lost.applied) continue;
      this.attempt = lost.row.attempt;
      await lifecycle.note(id, entry);
      return null;
    }
  }

  /** A pickup ends the outage hand-back's mark: a loss of this run counts again. */
  private async clearOutageMark(outage: boolean) {
    if (outage) await this.ctx.job.updateProgress(0).catch(() => {});
  }

  /**
   * This worker lost its hold on the job (paused or cut off past its lock): another worker owns it
   * now, so nothing is written. A DelayedError is the one outcome BullMQ leaves untouched.
   */
  private lockLost(): never {
    this.ctx.log.warn("lock lost: the trainer was stopped; the job belongs to another worker now and nothing was written");
    throw new DelayedError("lock lost");
  }

  /** Back to the queue for another worker (or this one, restarted) to resume from its checkpoint. */
  private async handBack(why?: string): Promise<never> {
    const { env } = this.rt;
    if (this.ctx.lease?.lost()) return this.lockLost();
    await this.rt.lifecycle
      .transition({
        kind: "training",
        id: this.row.id,
        to: "QUEUED",
        cause: "worker",
        where: this.owned,
        data: { etaSeconds: null },
        entry: {
          kind: "requeued",
          message: `${why ? `On ${env.WORKER_NAME}, ${why}` : `${env.WORKER_NAME} is shutting down`}; the job goes back to the queue and resumes from its checkpoint`,
        },
      })
      .catch((err: Error) =>
        this.ctx.log.warn({ err: { message: err.message } }, "hand-back not recorded (Postgres away?); the queue entry goes back anyway"),
      );
    return requeueLater(this.ctx.job, this.ctx.token, 0);
  }

  /** The whole run to the object store (waiting out an outage for ARTIFACT_RETRY_WINDOW_MS), and to its MLflow run. */
  private async storeArtifacts(saveDir: string, uploads: Promise<unknown>) {
    const { env, db, live } = this.rt;
    const store = this.rt.artifacts;
    const jobId = this.row.id;
    const log = this.ctx.log;
    if (!store) return;
    await uploads;
    if (this.ctx.lease?.lost()) return;
    const failure = await store
      .uploadPatiently(jobId, saveDir, env.ARTIFACT_RETRY_WINDOW_MS, (err, attempt) => {
        log.warn({ err: { message: err.message }, attempt }, "artifact upload failed; retrying");
        if (attempt === 1)
          void this.note("artifacts-retry", `The object store is unavailable (${err.message.slice(0, 200)}); retrying the upload`).catch(
            () => {},
          );
      })
      .then(
        () => null,
        (err: Error) => err,
      );
    const stored = await db.jobArtifact.findMany({ where: { jobId }, orderBy: { name: "asc" }, select: { name: true, storageKey: true } });
    if (failure) {
      log.error({ err: { message: failure.message } }, "artifacts not stored");
      await this.note(
        "artifacts-failed",
        `Artifacts not stored (${failure.message.slice(0, 200)}); the run's files stay in ${env.WORKER_NAME}'s data directory`,
      );
    } else if (stored.length) {
      await this.note("artifacts", `${stored.length} artifact${stored.length === 1 ? "" : "s"} stored`);
    }
    live.artifactsChanged(jobId);
    // The run's files go to its MLflow run too (through the outbox, before the run's end status).
    if (this.tracking && this.rt.tracker && stored.length) {
      await this.rt.tracker.enqueue(
        jobId,
        stored.map((a) => ({ kind: "artifact" as const, name: a.name, storageKey: a.storageKey })),
      );
    }
  }
}
