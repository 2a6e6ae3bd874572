import "server-only";
import { AppError } from "../errors";
import { db } from "../db";
import { trainingQueue } from "../queue";
import { withTimeout } from "../timeout";

/**
 * How long the worker of a STARTING/RUNNING row must have been silent before its run counts as
 * dead. Longer than a worker's lock duration (8 s by default: one whose lock lapses stops its
 * trainer by then) and its heartbeat interval (10 s), so a worker that still holds its trainer
 * right after Redis lost the queue entry is never taken for dead.
 */
export const RUN_SILENCE_MS = 30_000;

type Heard = { heartbeatAt: Date | null; updatedAt: Date };

/** How long until the row's worker has been silent for `silenceMs` (0: it has been): its last heartbeat, or the row's last change before the first one. */
export function msUntilSilent(row: Heard, now = new Date(), silenceMs = RUN_SILENCE_MS): number {
  return Math.max(0, (row.heartbeatAt ?? row.updatedAt).getTime() + silenceMs - now.getTime());
}

/**
 * The one rule for "this run is dead" (the reconciler, Cancel and Retry): the row is on a worker,
 * the queue has no entry for it (so no worker holds its lock), and its worker has been silent
 * for `silenceMs`.
 */
export function isRunDead(row: Heard & { queueState: string }, now = new Date(), silenceMs = RUN_SILENCE_MS): boolean {
  return row.queueState === "unknown" && msUntilSilent(row, now, silenceMs) === 0;
}

/** The silence half of isRunDead as a Prisma filter: to find such rows, and to guard a status change against a worker that wrote meanwhile. */
export function silentWhere(now = new Date(), silenceMs = RUN_SILENCE_MS) {
  const since = new Date(now.getTime() - silenceMs);
  return { OR: [{ heartbeatAt: null, updatedAt: { lte: since } }, { heartbeatAt: { lte: since } }] };
}

/**
 * For Cancel and Retry of a STARTING/RUNNING row: true when its run is dead, false when the queue
 * still has its entry (a worker holds it). A row without an entry whose worker was heard from
 * lately is a 409: that worker may still run its trainer until its lock lapses, and acting now
 * could start a second one.
 */
export async function runIsDead(jobId: string): Promise<boolean> {
  const queueState = await withTimeout(trainingQueue.getJobState(jobId), 3_000, "queue lookup");
  if (queueState !== "unknown") return false;
  const row = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId }, select: { heartbeatAt: true, updatedAt: true } });
  const now = new Date();
  if (isRunDead({ ...row, queueState }, now)) return true;
  const seconds = Math.ceil(msUntilSilent(row, now) / 1000);
  throw new AppError("CONFLICT", `The job lost its queue entry, but its worker may still be running it; try again in ${seconds} s`);
}
