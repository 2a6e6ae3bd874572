import type { Worker, WorkerOptions } from "bullmq";
import { WORKER_LOST_FAILURE } from "@wyolo/contracts";
import type { Db, Lifecycle } from "@wyolo/db";
import type { WorkerEnv } from "./env.ts";
import type { Logger } from "./logger.ts";

/**
 * How a lost worker is noticed, in one place. Each job's lock is renewed every quarter of
 * LOCK_DURATION_MS; a lock that lapses is found by the next stalled check (every
 * STALLED_INTERVAL_MS, on any worker) and the job goes back to the queue: training again within
 * LOCK_DURATION_MS + STALLED_INTERVAL_MS + a pickup. BullMQ's own stall limit is off: losses are
 * counted on the job's timeline (WORKER_MAX_LOSSES), which survives Redis.
 */
export function lockOptions(env: WorkerEnv): Pick<WorkerOptions, "lockDuration" | "lockRenewTime" | "stalledInterval" | "maxStalledCount"> {
  return {
    lockDuration: env.LOCK_DURATION_MS,
    lockRenewTime: Math.floor(env.LOCK_DURATION_MS / 4),
    stalledInterval: env.STALLED_INTERVAL_MS,
    maxStalledCount: 1_000_000,
  };
}

/** Worker losses of a job since it was last retried (the timeline keeps each as a `stalled` entry). */
async function lossesSoFar(db: Db, jobId: string): Promise<number> {
  const retried = await db.jobEvent.findFirst({
    where: { jobId, kind: "retried" },
    orderBy: { createdAt: "desc" },
    select: { createdAt: true },
  });
  return db.jobEvent.count({ where: { jobId, kind: "stalled", ...(retried ? { createdAt: { gt: retried.createdAt } } : {}) } });
}

/**
 * One more loss of the job's worker: which one it is, and, past WORKER_MAX_LOSSES, why the job
 * fails (the stalled handler and a pickup that found the loss unrecorded judge alike).
 */
export async function judgeLoss(
  db: Db,
  jobId: string,
  maxLosses: number,
): Promise<{ losses: number; failure: { failureReason: string; failureClass: string } | null }> {
  const losses = (await lossesSoFar(db, jobId)) + 1;
  if (losses <= maxLosses) return { losses, failure: null };
  return {
    losses,
    failure: {
      failureReason: `The worker was lost ${losses} times (WORKER_MAX_LOSSES is ${maxLosses}); Retry resumes it from its checkpoint`,
      failureClass: WORKER_LOST_FAILURE,
    },
  };
}

/**
 * A job whose worker stopped renewing its lock was put back by BullMQ: record that on the row,
 * unless somebody picked it up again since (a pickup increments the row's attempt and writes a
 * fresh heartbeat at once; the change applies only to the attempt read when the loss is judged). One loss more than WORKER_MAX_LOSSES fails the job
 * instead, saying so; its queue entry then finds an ended row and is dropped. Exports have no
 * heartbeat: their row stays RUNNING and the next pickup sets it again.
 */
export function stalledHandler(deps: { lifecycle: Lifecycle; db: Db; maxLosses: number; log: Logger }) {
  const { lifecycle, db, maxLosses, log } = deps;
  return async (jobId: string) => {
    const staleBefore = new Date(Date.now() - 1_000);
    // The run that was lost is the attempt the row has now: a pickup since (attempt + 1) is
    // another run, which a late handler must not touch, however old its heartbeat.
    const seen = await db.trainingJob.findUnique({ where: { id: jobId }, select: { attempt: true } });
    if (!seen) return;
    const where = { attempt: seen.attempt, OR: [{ heartbeatAt: null }, { heartbeatAt: { lt: staleBefore } }] };
    const { losses, failure } = await judgeLoss(db, jobId, maxLosses);
    if (failure) {
      const failed = await lifecycle.transition({
        kind: "training",
        id: jobId,
        to: "FAILED",
        cause: "stalled",
        where,
        data: { ...failure, finishedAt: new Date(), etaSeconds: null },
        entry: (row) => ({ kind: "failed", message: `Worker ${row.workerName ?? "?"} stopped responding. ${failure.failureReason}` }),
      });
      if (failed.applied) log.warn({ jobId, lostWorker: failed.row.workerName, losses }, "job failed: its worker was lost too often");
      return;
    }
    // One transaction: a worker picking the job up meanwhile waits on the row lock, so the
    // timeline reads "stalled" before "resumed".
    const result = await lifecycle.transition({
      kind: "training",
      id: jobId,
      to: "QUEUED",
      cause: "stalled",
      where,
      data: { etaSeconds: null },
      entry: (row) => ({
        kind: "stalled",
        message: `Worker ${row.workerName ?? "?"} stopped responding; the job was re-queued (worker loss ${losses} of ${maxLosses} allowed)`,
      }),
    });
    if (result.applied) log.warn({ jobId, lostWorker: result.row.workerName, losses }, "stalled job re-queued");
  };
}

/**
 * This worker's hold on one job. It lasts until its lock could lapse in Redis (the last renewal
 * that succeeded + LOCK_DURATION_MS, less a safety margin); a renewal refused (another worker
 * holds the lock now) or none in time ends it. Once it ends, `signal` aborts: the trainer is
 * killed at once and nothing more is written for the job, since another worker may own it.
 */
export type Lease = {
  readonly signal: AbortSignal;
  /** True once the hold is gone, checked against the clock (a worker just back from a pause knows at once). */
  lost(): boolean;
  /** Milliseconds the hold surely lasts. */
  remainingMs(): number;
  /** When the job's run ends on this worker. */
  release(): void;
};

/** The trainer's side of a lease: it hears from the worker every `beatEveryMs`, and exits when silent for `timeoutMs`. */
export type Lifeline = { timeoutMs: number; beatEveryMs: number; healthy: () => boolean };

// What a renewal's round trip and timer lateness may take, at most, on a loaded machine (measured: ~60 ms).
const SAFETY_MS = 500;

export class Leases {
  private readonly held = new Map<string, { until: number; controller: AbortController }>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly lockDurationMs: number,
    private readonly log: Logger,
  ) {
    this.timer = setInterval(() => {
      for (const [id, lease] of this.held)
        if (Date.now() >= lease.until) this.end(id, `its lock was not renewed for ${this.lockDurationMs - SAFETY_MS} ms`);
    }, 250);
    this.timer.unref();
  }

  /** Follows the worker's lock renewals: each success extends the jobs' holds, a refusal ends one. */
  listen(worker: Pick<Worker, "on">) {
    worker.on("locksRenewed", ({ jobIds }: { jobIds: string[] }) => {
      const until = Date.now() + this.lockDurationMs - SAFETY_MS;
      for (const id of jobIds) {
        const lease = this.held.get(id);
        if (lease && !lease.controller.signal.aborted) lease.until = until;
      }
    });
    worker.on("lockRenewalFailed", (jobIds: string[]) => {
      for (const id of jobIds) this.end(id, "its lock is gone (another worker holds the job now, or Redis lost it)");
    });
  }

  /** Taken when the job is picked up: BullMQ has just set its lock. */
  hold(jobId: string): Lease {
    const controller = new AbortController();
    const entry = { until: Date.now() + this.lockDurationMs - SAFETY_MS, controller };
    this.held.set(jobId, entry);
    const lost = () => {
      if (!controller.signal.aborted && Date.now() >= entry.until) this.end(jobId, "its lock lapsed");
      return controller.signal.aborted;
    };
    // Only its own entry: the same job picked up here again later has a lease of its own.
    const release = () => this.held.get(jobId) === entry && this.held.delete(jobId);
    return { signal: controller.signal, lost, remainingMs: () => (lost() ? 0 : entry.until - Date.now()), release: () => void release() };
  }

  /**
   * The trainer's lifeline for a lease: it dies on its own before the lock can lapse, even when
   * this worker is frozen (paused, swapped out) and cannot kill it. Beats stop while the
   * remaining hold is shorter than the trainer's timeout, so a trainer outlives its lease never.
   */
  lifeline(lease: Lease): Lifeline {
    // A lock renewed every quarter of its duration leaves at least half of it; the trainer must
    // be gone within that, with room for a late beat.
    const timeoutMs = Math.max(1_000, Math.floor((this.lockDurationMs * 3) / 8));
    return { timeoutMs, beatEveryMs: Math.floor(timeoutMs / 3), healthy: () => lease.remainingMs() > timeoutMs + 250 };
  }

  close() {
    clearInterval(this.timer);
  }

  private end(jobId: string, why: string) {
    const lease = this.held.get(jobId);
    if (!lease || lease.controller.signal.aborted) return;
    this.log.warn({ jobId, why }, "lock lost: stopping the trainer at once and writing nothing more for this job");
    lease.controller.abort(new Error(`lock lost: ${why}`));
  }
}
