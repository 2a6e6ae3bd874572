import "server-only";
import { db } from "../db";
import { logger } from "../logger";
import { trainingQueue } from "../queue";
import { enqueueExport, enqueueTraining } from "./enqueue";

/**
 * Re-adds the queue entry of QUEUED rows (trainings and exports) that have none (the web process died between writing
 * the row and enqueueing it). Rows younger than `graceMs` are left alone: their request may
 * still be enqueueing. Entries without a row are dropped by the worker.
 */
export async function reconcileQueue({ graceMs = 30_000, batch = 500 } = {}): Promise<{ requeued: string[] }> {
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
  if (requeued.length) logger.warn({ requeued }, "re-queued job rows that had no queue entry");
  return { requeued };
}
