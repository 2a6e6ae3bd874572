import "server-only";
import { createLifecycle } from "@wyolo/db";
import { db } from "../db";
import { auditMetadata } from "../audit";
import { logger } from "../logger";
import { emitExportUpdated, emitJobEvent, emitJobUpdated, emitSweepUpdated } from "../realtime/emitter";
import { enqueueSweepAdvanceLater } from "../sweeps/enqueue-advance";
import { queueNewDeliveries } from "../webhooks/queue";

/**
 * The web side's status changes (cancel, the reconciler): @wyolo/db's lifecycle over this
 * process's emitter. A trial that ended here (cancelled, failed by the reconciler) advances its
 * sweep; best effort, since the reconciler asks an advance for every active sweep each minute.
 * Webhook deliveries the change wrote are queued at once (the workers' scan finds them anyway).
 */
export const lifecycle = createLifecycle({
  db,
  log: logger,
  publish: (notice) => {
    if (notice.kind === "training") emitJobUpdated(notice.patch);
    else if (notice.kind === "export") emitExportUpdated(notice.patch);
    else if (notice.kind === "sweep") return emitSweepUpdated(notice.patch);
    if (notice.event) emitJobEvent(notice.jobId, notice.event);
  },
  onTrialEnded: (sweepId) => void enqueueSweepAdvanceLater(sweepId, "trial-ended"),
  onWebhookDeliveries: (ids) => void queueNewDeliveries(ids),
  auditMetadata,
});
