import { newId, writeTimelineEntry, type Db, type DbTx, type Lifecycle, type SweepTransition } from "@wyolo/db";
import {
  parseDatasetRef,
  ACTIVE_STATUSES,
  applyTrialParams,
  finalObjective,
  objectiveValue,
  SWEEP_TERMINAL_STATUSES,
  TERMINAL_STATUSES,
  type JobEventRow,
  type JobStatus,
  type Priority,
  type SweepSettings,
  type SweepStatus,
  type TrainingConfig,
  type TrialState,
} from "@wyolo/contracts";
import type { Logger } from "../logger.ts";
import type { LivePublisher } from "../realtime.ts";
import { OptunaBridgeError, studySpecFor, type OptunaBridge, type StudySpec } from "./optuna-bridge.ts";
import type { SweepTracking } from "./sweep-tracking.ts";

export type AdvanceDeps = {
  db: Db;
  lifecycle: Lifecycle;
  bridge: Pick<OptunaBridge, "ensureStudy" | "ask" | "tell" | "trials" | "importances">;
  live: Pick<LivePublisher, "sweepUpdated" | "sweepTrial" | "jobUpdated" | "event">;
  log: Logger;
  /** A trial's training entry (jobId = row id); a double add is a no-op. */
  enqueueTrial: (jobId: string, priority: Priority) => Promise<unknown>;
  /** A later advance of this sweep (its deadline, an MLflow retry); `n` names it, so one per `n`. */
  scheduleAdvance: (sweepId: string, reason: "deadline" | "mlflow", delayMs: number, n: number) => Promise<unknown>;
  /** Tells the worker running a trial to stop (the cancel channel). */
  requestStop: (jobId: string) => Promise<unknown>;
  tracking?: SweepTracking;
  now?: () => Date;
};

export type AdvanceResult = {
  status: SweepStatus | "gone";
  told: { number: number; state: TrialState }[];
  asked: number[];
  adopted: number[];
};

const TRIAL_SELECT = {
  id: true,
  name: true,
  status: true,
  trialNumber: true,
  trialState: true,
  trialValue: true,
  prunedAtEpoch: true,
  cancelRequestedAt: true,
  finishedAt: true,
} as const;
type TrialJob = {
  id: string;
  name: string;
  status: JobStatus;
  trialNumber: number | null;
  trialState: string | null;
  trialValue: number | null;
  prunedAtEpoch: number | null;
  cancelRequestedAt: Date | null;
  finishedAt: Date | null;
};

const isTerminal = (status: JobStatus) => TERMINAL_STATUSES.includes(status);
const lower = (p: string) => p.toLowerCase() as Priority;
/** An ended sweep's MLflow run is retried for this long after its end, then left as it is. */
const MLFLOW_RETRY_WINDOW_MS = 24 * 3_600_000;
const MLFLOW_RETRY_DELAY_MS = 60_000;

/**
 * One idempotent reconcile of a sweep (the design's "advance step"), under a per-sweep advisory
 * lock in one transaction: trials whose job ended are told to Optuna, Optuna trials left without a
 * job (a crash between ask and insert) get theirs, new trials are asked up to `parallel`,
 * `nTrials` and the deadline, and the best and the importances are written. After the commit:
 * the status change (through the lifecycle), the MLflow parent run, the trials' queue entries.
 * Throws when Postgres or the study storage is away: nothing is half-written, and the queue
 * retries the step (Optuna's ask and tell are idempotent or adopted on the next try).
 */
export async function advanceSweep(sweepId: string, deps: AdvanceDeps): Promise<AdvanceResult> {
  const now = deps.now?.() ?? new Date();
  const plan = await deps.db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`wyolo-sweep:${sweepId}`}))`;
      return reconcile(tx, sweepId, now, deps);
    },
    // Optuna's calls run inside (each well under a second; the bridge's own timeout bounds them).
    { maxWait: 15_000, timeout: 300_000 },
  );
  if (!plan) return { status: "gone", told: [], asked: [], adopted: [] };
  const { sweep, events } = plan;
  for (const { jobId, event } of events) deps.live.event(jobId, event);
  for (const t of plan.told)
    deps.live.sweepTrial({
      sweepId,
      number: t.number,
      state: t.state,
      value: t.value,
      jobStatus: t.jobStatus,
      prunedAtEpoch: t.prunedAtEpoch,
    });
  for (const j of plan.created) {
    deps.live.jobUpdated({ id: j.id, projectId: sweep.projectId, status: "QUEUED", name: j.name });
    deps.live.sweepTrial({ sweepId, number: j.number, jobId: j.id, jobName: j.name, jobStatus: "QUEUED", params: j.params, state: null });
  }

  let status = sweep.status;
  if (plan.change) {
    const changed = await deps.lifecycle.transitionSweep({ id: sweepId, cause: "worker", ...plan.change });
    if (changed.applied) status = changed.row.status;
  }
  if (plan.bestChanged || plan.told.length || plan.created.length)
    deps.live.sweepUpdated({ id: sweepId, projectId: sweep.projectId, ...plan.bestChanged, counts: plan.counts });

  for (const id of plan.cancelQueued)
    await deps.lifecycle.transition({
      kind: "training",
      id,
      to: "CANCELLED",
      cause: "worker",
      where: { status: "QUEUED" },
      data: { finishedAt: new Date(), etaSeconds: null },
      entry: { kind: "cancelled", message: plan.cancelWhy },
    });
  for (const jobId of plan.stop)
    await deps.requestStop(jobId).catch((err: Error) => deps.log.warn({ sweepId, jobId, err: { message: err.message } }, "stop not sent"));

  // Before the trials' entries, so a trial's run finds its parent's id when it starts.
  if (deps.tracking) {
    const current = await deps.db.sweep.findUnique({ where: { id: sweepId }, select: TRACKED_SWEEP });
    if (current) {
      const trialRuns = await deps.db.trainingJob.findMany({
        where: { sweepId, mlflowRunId: { not: null }, trialNumber: { not: null } },
        select: { id: true, trialNumber: true, mlflowRunId: true },
      });
      const ok = await deps.tracking.sync(
        { ...current, settings: current.settings as unknown as SweepSettings },
        plan.completed,
        trialRuns.map((t) => ({ jobId: t.id, trialNumber: t.trialNumber!, mlflowRunId: t.mlflowRunId! })),
      );
      const endedAt = current.finishedAt?.getTime() ?? now.getTime();
      if (!ok && SWEEP_TERMINAL_STATUSES.includes(current.status) && now.getTime() - endedAt < MLFLOW_RETRY_WINDOW_MS)
        await deps.scheduleAdvance(sweepId, "mlflow", MLFLOW_RETRY_DELAY_MS, Math.floor(now.getTime() / MLFLOW_RETRY_DELAY_MS));
    }
  }

  // Every trial still QUEUED gets its entry (a no-op when it has one): a crash or a Redis refusal
  // after the commit is repaired by the next advance.
  for (const j of plan.queued) await deps.enqueueTrial(j.id, lower(sweep.priority));

  if (sweep.deadlineAt && sweep.deadlineAt > now && !SWEEP_TERMINAL_STATUSES.includes(status))
    await deps.scheduleAdvance(sweepId, "deadline", sweep.deadlineAt.getTime() - now.getTime() + 1_000, sweep.deadlineAt.getTime());

  return {
    status,
    told: plan.told.map((t) => ({ number: t.number, state: t.state })),
    asked: plan.created.filter((c) => !c.adopted).map((c) => c.number),
    adopted: plan.created.filter((c) => c.adopted).map((c) => c.number),
  };
}

const TRACKED_SWEEP = {
  id: true,
  projectId: true,
  name: true,
  status: true,
  nTrials: true,
  settings: true,
  createdAt: true,
  finishedAt: true,
  mlflowExperimentId: true,
  mlflowRunId: true,
  project: { select: { slug: true, team: { select: { slug: true } } } },
  createdBy: { select: { name: true } },
} as const;

type Told = { number: number; state: TrialState; value: number | null; jobStatus: JobStatus; prunedAtEpoch: number | null };
type Created = { id: string; name: string; number: number; params: Record<string, unknown>; adopted: boolean };

async function reconcile(tx: DbTx, sweepId: string, now: Date, deps: AdvanceDeps) {
  const { bridge, log } = deps;
  const sweep = await tx.sweep.findUnique({ where: { id: sweepId } });
  if (!sweep) return null;
  const settings = sweep.settings as unknown as SweepSettings;
  const base = sweep.config as unknown as TrainingConfig;
  const study = studySpecFor(sweep.id, settings, base.train.epochs);
  const jobs: TrialJob[] = await tx.trainingJob.findMany({ where: { sweepId }, select: TRIAL_SELECT, orderBy: { trialNumber: "asc" } });
  const events: { jobId: string; event: JobEventRow }[] = [];
  const told: Told[] = [];
  const created: Created[] = [];

  let refused: string | null = null;
  try {
    await bridge.ensureStudy(study);
  } catch (err) {
    if (!(err instanceof OptunaBridgeError && err.code === "INVALID")) throw err;
    refused = err.message;
  }

  if (!refused) {
    // 1. Trials whose job ended and Optuna has not heard of yet.
    for (const job of jobs) {
      if (job.trialNumber === null || job.trialState !== null || !isTerminal(job.status)) continue;
      const verdict = await verdictOf(tx, job, settings);
      if (verdict.note) events.push({ jobId: job.id, event: await writeTimelineEntry(tx, job.id, verdict.note) });
      const state = await tellOnce(bridge, study, job.trialNumber, verdict.state, verdict.value, log);
      const value = state === "FAIL" ? null : verdict.value;
      await tx.trainingJob.update({ where: { id: job.id }, data: { trialState: state, trialValue: value } });
      Object.assign(job, { trialState: state, trialValue: value });
      told.push({ number: job.trialNumber, state, value, jobStatus: job.status, prunedAtEpoch: job.prunedAtEpoch });
    }

    // 2. What Optuna still has RUNNING: told again when its job's end is on record, adopted or failed when it has no job.
    const cancelled = sweep.cancelRequestedAt !== null;
    const canStart = !SWEEP_TERMINAL_STATUSES.includes(sweep.status) && !cancelled && !(sweep.deadlineAt && sweep.deadlineAt <= now);
    const byNumber = new Map(jobs.map((j) => [j.trialNumber, j]));
    for (const trial of await bridge.trials(study)) {
      if (trial.state !== "RUNNING" && trial.state !== "WAITING") continue;
      const job = byNumber.get(trial.number);
      if (job?.trialState) {
        await tellOnce(bridge, study, trial.number, job.trialState as TrialState, job.trialValue ?? undefined, log);
      } else if (!job) {
        // A trial whose params were not all written (the storage went away mid-ask) would train the base config: failed instead.
        const whole = Object.keys(study.space).every((name) => Object.hasOwn(trial.params, name));
        if (whole && canStart && jobs.length < sweep.nTrials) {
          const row = await createTrialJob(tx, sweep, base, trial.number, trial.params, events);
          jobs.push(row);
          created.push({ id: row.id, name: row.name, number: trial.number, params: trial.params, adopted: true });
          log.warn({ sweepId, trial: trial.number }, "adopted an Optuna trial that had no job (asked before a crash)");
        } else {
          await tellOnce(bridge, study, trial.number, "FAIL", undefined, log);
        }
      }
    }

    // 3. New trials, within parallel, nTrials and the deadline.
    const running = jobs.filter((j) => !isTerminal(j.status)).length;
    const count = canStart ? Math.max(0, Math.min(sweep.parallel - running, sweep.nTrials - jobs.length)) : 0;
    if (count > 0) {
      try {
        for (const trial of await bridge.ask(study, count)) {
          const row = await createTrialJob(tx, sweep, base, trial.number, trial.params, events);
          jobs.push(row);
          created.push({ id: row.id, name: row.name, number: trial.number, params: trial.params, adopted: false });
        }
      } catch (err) {
        if (!(err instanceof OptunaBridgeError && err.code === "INVALID")) throw err;
        refused = err.message;
      }
    }
  }

  // A cancelled sweep's trials stop too (the web cancels them; one it missed, e.g. asked meanwhile, stops here).
  const stop: string[] = [];
  if (sweep.cancelRequestedAt) {
    for (const j of jobs)
      if (ACTIVE_STATUSES.includes(j.status) && !j.cancelRequestedAt) {
        await tx.trainingJob.updateMany({ where: { id: j.id, cancelRequestedAt: null }, data: { cancelRequestedAt: now } });
        stop.push(j.id);
      }
  }

  // 4. The best trial and the importances.
  const complete = jobs.filter((j) => j.trialState === "COMPLETE" && j.trialValue !== null);
  const best = complete.reduce<TrialJob | null>(
    (b, j) => (!b || (settings.direction === "maximize" ? j.trialValue! > b.trialValue! : j.trialValue! < b.trialValue!) ? j : b),
    null,
  );
  const bestFields = { bestValue: best?.trialValue ?? null, bestTrialNumber: best?.trialNumber ?? null, bestJobId: best?.id ?? null };
  const data: { bestValue?: number | null; bestTrialNumber?: number | null; bestJobId?: string | null; importances?: object } = {};
  if (bestFields.bestJobId !== sweep.bestJobId || bestFields.bestValue !== sweep.bestValue) Object.assign(data, bestFields);
  if (complete.length >= 2 && (told.some((t) => t.state === "COMPLETE") || sweep.importances === null)) {
    const answer = await bridge.importances(study).catch((err: Error) => {
      log.warn({ sweepId, err: { message: err.message } }, "parameter importances not computed");
      return null;
    });
    if (answer?.importances) data.importances = answer.importances;
  }
  if (Object.keys(data).length) await tx.sweep.update({ where: { id: sweepId }, data });

  // 5. The status change, made after the commit; each is conditional on what it was decided from.
  const active = jobs.filter((j) => !isTerminal(j.status)).length;
  const expired = sweep.deadlineAt !== null && sweep.deadlineAt <= now;
  const ended = jobs.length >= sweep.nTrials || expired;
  let change: Omit<SweepTransition, "id" | "cause"> | null = null;
  if (!SWEEP_TERMINAL_STATUSES.includes(sweep.status)) {
    const finished = { finishedAt: now, ...(sweep.startedAt ? {} : { startedAt: now }) };
    if (refused) change = { to: "FAILED", data: { ...finished, failureReason: `Optuna refused the study: ${refused}`.slice(0, 1000) } };
    else if (sweep.cancelRequestedAt && active === 0)
      change = { to: "CANCELLED", data: finished, where: { cancelRequestedAt: { not: null } } };
    else if (!sweep.cancelRequestedAt && active === 0 && ended) {
      const where = { nTrials: sweep.nTrials, cancelRequestedAt: null };
      change = jobs.some((j) => j.trialState === "COMPLETE" || j.trialState === "PRUNED")
        ? { to: "COMPLETED", data: finished, where }
        : { to: "FAILED", data: { ...finished, failureReason: "Every trial failed" }, where };
    } else if (sweep.status === "QUEUED" && jobs.length > 0) change = { to: "RUNNING", data: { startedAt: sweep.startedAt ?? now } };
  }

  return {
    sweep,
    events,
    told,
    created,
    change,
    stop,
    bestChanged: Object.keys(data).length ? bestFields : null,
    // Trials that never started end here when their sweep is cancelled or past its deadline (no trial starts after it),
    // instead of waiting for a free slot.
    queued: sweep.cancelRequestedAt || expired ? [] : jobs.filter((j) => j.status === "QUEUED"),
    cancelQueued: sweep.cancelRequestedAt || expired ? jobs.filter((j) => j.status === "QUEUED").map((j) => j.id) : [],
    cancelWhy: sweep.cancelRequestedAt ? "Cancelled with its sweep before it started" : "Not started: its sweep's timeout passed",
    counts: {
      total: jobs.length,
      active,
      complete: jobs.filter((j) => j.trialState === "COMPLETE").length,
      pruned: jobs.filter((j) => j.trialState === "PRUNED").length,
      failed: jobs.filter((j) => j.trialState === "FAIL").length,
    },
    completed: complete.map((j) => ({ number: j.trialNumber!, value: j.trialValue!, finishedAt: j.finishedAt })),
  };
}

/** What an ended trial's job tells Optuna: its best objective over its epochs; pruned, or failed without a value. */
async function verdictOf(
  tx: DbTx,
  job: TrialJob,
  settings: SweepSettings,
): Promise<{ state: TrialState; value: number | null; note?: { kind: string; message: string } }> {
  if (job.status !== "SUCCEEDED") return { state: "FAIL", value: null };
  const epochs = await tx.jobEpoch.findMany({
    where: { jobId: job.id },
    select: { metrics: true, losses: true },
    orderBy: { epoch: "asc" },
  });
  const values = epochs
    .map((e) => objectiveValue(settings.objective, e as { metrics: Record<string, number | null>; losses: Record<string, number | null> }))
    .filter((v): v is number => v !== null);
  const value = finalObjective(values, settings.direction);
  // Optuna keeps a pruned trial's last reported value; so does its job.
  if (job.prunedAtEpoch !== null) return { state: "PRUNED", value: values.at(-1) ?? null };
  if (value === null)
    return {
      state: "FAIL",
      value: null,
      note: { kind: "sweep", message: `No epoch recorded the sweep's objective \`${settings.objective}\`: the trial is told FAIL` },
    };
  return { state: "COMPLETE", value };
}

/** Tells Optuna once; a trial it no longer knows (its study was removed) counts as FAIL here. */
async function tellOnce(
  bridge: AdvanceDeps["bridge"],
  study: StudySpec,
  number: number,
  state: TrialState,
  value: number | null | undefined,
  log: Logger,
): Promise<TrialState> {
  try {
    return await bridge.tell(study, number, state, state === "COMPLETE" ? (value ?? undefined) : undefined);
  } catch (err) {
    if (!(err instanceof OptunaBridgeError && err.code === "NOT_FOUND")) throw err;
    log.warn({ study: study.name, trial: number, err: { message: err.message } }, "Optuna does not know this trial; recorded as FAIL");
    return "FAIL";
  }
}

type SweepRow = NonNullable<Awaited<ReturnType<DbTx["sweep"]["findUnique"]>>>;

/**
 * The dataset version a trial trains from, when the sweep's data is `dataset:<name>@v<N>` (the web app
 * resolved `@latest` to a number at submission): recorded on each trial, as on a job.
 */
async function trialDatasetVersion(tx: DbTx, projectId: string, data: string): Promise<string | null> {
  const ref = parseDatasetRef(data);
  if (!ref || ref.version === "latest") return null;
  const found = await tx.datasetVersion.findFirst({
    where: { version: ref.version, dataset: { name: ref.name, team: { projects: { some: { id: projectId } } } } },
    select: { id: true },
  });
  return found?.id ?? null;
}

/** A trial's training job: the sweep's base config with the sampled arguments, its priority and creator, a `queued` entry. */
async function createTrialJob(
  tx: DbTx,
  sweep: SweepRow,
  base: TrainingConfig,
  number: number,
  params: Record<string, unknown>,
  events: { jobId: string; event: JobEventRow }[],
): Promise<TrialJob> {
  const trained = applyTrialParams(base, params);
  const config: TrainingConfig = { ...trained, metadata: { ...base.metadata, sweep_id: sweep.id, trial: number } };
  const id = newId();
  const name = `${sweep.name} #${number}`.slice(0, 120);
  const datasetVersionId = await trialDatasetVersion(tx, sweep.projectId, base.train.data);
  const row = await tx.trainingJob.create({
    data: {
      id,
      projectId: sweep.projectId,
      createdById: sweep.createdById,
      name,
      config: config as object,
      priority: sweep.priority,
      model: config.model,
      task: config.task,
      totalEpochs: config.train.epochs,
      sweepId: sweep.id,
      trialNumber: number,
      trialParams: params as object,
      ...(datasetVersionId ? { datasetVersionId } : {}),
      // The base config's platform defaults hold for every trial.
      ...(sweep.configSources ? { configSources: sweep.configSources } : {}),
    },
    select: TRIAL_SELECT,
  });
  const event = await writeTimelineEntry(tx, id, {
    kind: "queued",
    message: `Queued with ${lower(sweep.priority)} priority as trial #${number} of sweep ${sweep.name}`,
  });
  events.push({ jobId: id, event });
  return row;
}
