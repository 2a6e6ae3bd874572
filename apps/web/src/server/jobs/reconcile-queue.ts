import "server-only";
import { ACTIVE_STATUSES, validationJobId, type Priority } from "@wyolo/contracts";
import { db } from "../db";
import { logger } from "../logger";
import { trainingQueue } from "../queue";
import { withTimeout } from "../timeout";
import { enqueueExport, enqueueTraining } from "./enqueue";
import { enqueueSweepAdvance } from "../sweeps/enqueue-advance";
import { enqueueValidation } from "../datasets/enqueue-validation";
import { lifecycle } from "./lifecycle";
import { isRunDead, RUN_SILENCE_MS, silentWhere } from "./run-liveness";

/**
 * Keeps rows and queue entries in step, for trainings and exports alike:
 * - re-adds the queue entry of QUEUED rows that have none (the web process died between writing
 *   the row and enqueueing it), and of VALIDATING dataset versions that have none or a failed one;
 * - re-queues STARTING/RUNNING rows whose entry is gone (Redis lost it: restarted without AOF,
 *   flushed) and whose worker has been silent for `graceMs` (isRunDead): no worker holds them
 *   (one that loses its lock stops its trainer), so they resume from their checkpoint elsewhere;
 * - fails active rows whose entry the queue gave up on (retries used up), which no worker would
 *   otherwise ever end.
 * - asks an advance step of every QUEUED/RUNNING sweep (one queue entry each at most: its id is
 *   fixed), which catches a missed trigger and a `timeout` that passed.
 * Rows younger than `graceMs` are left alone: their request may still be enqueueing. Entries
 * without a row are dropped by the worker.
 */
export async function reconcileQueue({ graceMs = RUN_SILENCE_MS, batch = 500 } = {}): Promise<{
  requeued: string[];
  failed: string[];
  advanced: string[];
}> {
  const rows = await db.trainingJob.findMany({
    where: { status: "QUEUED", createdAt: { lt: new Date(Date.now() - graceMs) } },
    select: { id: true, priority: true },
    orderBy: { createdAt: "asc" },
    take: batch,
  });
  const requeued: string[] = [];
  for (const row of rows) {
    const state = await trainingQueue.getJobState(row.id);
    if (state !== "unknown") continue;
    await enqueueTraining(row.id, row.priority.toLowerCase() as "low" | "normal" | "high");
    requeued.push(row.id);
  }
  // Exports too: a QUEUED export row without its queue entry.
  const exports = await db.modelExport.findMany({
    where: { status: "QUEUED", createdAt: { lt: new Date(Date.now() - graceMs) } },
    select: { id: true },
    orderBy: { createdAt: "asc" },
    take: batch,
  });
  for (const row of exports) {
    if ((await trainingQueue.getJobState(row.id)) !== "unknown") continue;
    await enqueueExport(row.id);
    requeued.push(row.id);
  }
  // Dataset versions waiting for a validation that is not in the queue (a crash between the status
  // change and the add), or whose validation the queue gave up on without it writing INVALID (its
  // last attempt could not reach Postgres): the failed entry goes, and the validation is queued again.
  const validating = await db.datasetVersion.findMany({
    where: { status: "VALIDATING", updatedAt: { lt: new Date(Date.now() - graceMs) } },
    select: { id: true },
    orderBy: { updatedAt: "asc" },
    take: batch,
  });
  for (const row of validating) {
    const jobId = validationJobId(row.id);
    const state = await trainingQueue.getJobState(jobId);
    if (state !== "unknown" && state !== "failed") continue;
    if (state === "failed") await trainingQueue.remove(jobId);
    await enqueueValidation(row.id);
    requeued.push(row.id);
  }
  requeued.push(...(await requeueOrphans(graceMs, batch)));
  if (requeued.length) logger.warn({ requeued }, "re-queued job rows that had no queue entry");
  const failed = await failGivenUp(graceMs, batch);
  const advanced = await advanceActiveSweeps(batch);
  return { requeued, failed, advanced };
}

async function advanceActiveSweeps(batch: number): Promise<string[]> {
  const sweeps = await db.sweep.findMany({
    where: { status: { in: ["QUEUED", "RUNNING"] } },
    select: { id: true },
    orderBy: { updatedAt: "asc" },
    take: batch,
  });
  for (const s of sweeps) await enqueueSweepAdvance(s.id, "reconcile");
  return sweeps.map((s) => s.id);
}

async function requeueOrphans(graceMs: number, batch: number): Promise<string[]> {
  const requeued: string[] = [];
  const rows = await db.trainingJob.findMany({
    where: { status: { in: ["STARTING", "RUNNING"] }, ...silentWhere(new Date(), graceMs) },
    select: { id: true, priority: true, heartbeatAt: true, updatedAt: true },
    orderBy: { createdAt: "asc" },
    take: batch,
  });
  for (const row of rows) {
    const queueState = await withTimeout(trainingQueue.getJobState(row.id), 3_000, "queue lookup");
    if (!isRunDead({ ...row, queueState }, new Date(), graceMs)) continue;
    const back = await lifecycle.transition({
      kind: "training",
      id: row.id,
      to: "QUEUED",
      cause: "reconciler",
      // Still silent at the moment of the change: a worker that wrote meanwhile keeps it.
      where: silentWhere(new Date(), graceMs),
      data: { etaSeconds: null },
      // A `stalled` entry: a worker lost, counted against WORKER_MAX_LOSSES like any other.
      entry: (r) => ({
        kind: "stalled",
        message: `No queue entry, and nothing from worker ${r.workerName ?? "?"} since ${row.heartbeatAt?.toISOString() ?? "it started"}: re-queued to resume from its checkpoint`,
      }),
    });
    if (!back.applied) continue;
    // Should Redis fail here, the row is QUEUED without an entry: the next round adds it.
    await enqueueTraining(row.id, row.priority.toLowerCase() as Priority);
    requeued.push(row.id);
  }
  return requeued;
}

async function givenUpReason(id: string): Promise<string | null> {
  if ((await trainingQueue.getJobState(id)) !== "failed") return null;
  const entry = await trainingQueue.getJob(id);
  return `The queue gave up on it: ${(entry?.failedReason ?? "no reason recorded").slice(0, 500)}`;
}

async function failGivenUp(graceMs: number, batch: number): Promise<string[]> {
  const before = new Date(Date.now() - graceMs);
  const failed: string[] = [];
  const jobs = await db.trainingJob.findMany({
    where: { status: { in: [...ACTIVE_STATUSES] }, updatedAt: { lt: before } },
    select: { id: true },
    take: batch,
  });
  for (const row of jobs) {
    const reason = await givenUpReason(row.id);
    if (!reason) continue;
    const ended = await lifecycle.transition({
      kind: "training",
      id: row.id,
      to: "FAILED",
      cause: "reconciler",
      data: { failureReason: reason, failureClass: "UNKNOWN", finishedAt: new Date(), etaSeconds: null },
      entry: { kind: "failed", message: reason },
    });
    if (ended.applied) failed.push(row.id);
  }
  const exports = await db.modelExport.findMany({
    where: { status: { in: [...ACTIVE_STATUSES] }, updatedAt: { lt: before } },
    select: { id: true },
    take: batch,
  });
  for (const row of exports) {
    const reason = await givenUpReason(row.id);
    if (!reason) continue;
    const ended = await lifecycle.transition({
      kind: "export",
      id: row.id,
      to: "FAILED",
      cause: "reconciler",
      data: { failureReason: reason, finishedAt: new Date() },
    });
    if (ended.applied) failed.push(row.id);
  }
  if (failed.length) logger.warn({ failed }, "failed rows whose queue entry had been given up on");
  return failed;
}
