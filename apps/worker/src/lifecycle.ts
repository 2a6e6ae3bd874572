import { createLifecycle, type Db } from "@wyolo/db";
import type { Logger } from "./logger.ts";
import type { LivePublisher } from "./realtime.ts";

/**
 * The worker side's status changes: @wyolo/db's lifecycle over this worker's live publisher.
 * `onTrialEnded`: a sweep's trial job ended here, so its sweep should advance (best effort: the
 * web's reconciler advances every active sweep each minute anyway). `onWebhookDeliveries`: outbox
 * rows the change wrote, queued at once (the workers' scan of due rows finds them anyway).
 */
export function workerLifecycle(
  db: Db,
  live: LivePublisher,
  log: Logger,
  onTrialEnded?: (sweepId: string, jobId: string) => Promise<unknown>,
  onWebhookDeliveries?: (deliveryIds: string[]) => void,
) {
  return createLifecycle({
    db,
    log,
    publish: (notice) => {
      if (notice.kind === "training") live.jobUpdated(notice.patch);
      else if (notice.kind === "export") live.exportUpdated(notice.patch);
      else if (notice.kind === "sweep") return live.sweepUpdated(notice.patch);
      if (notice.event) live.event(notice.jobId, notice.event);
    },
    onTrialEnded: onTrialEnded
      ? (sweepId, jobId) =>
          void onTrialEnded(sweepId, jobId).catch((err: Error) =>
            log.warn({ sweepId, jobId, err: { message: err.message } }, "sweep advance not queued after its trial ended"),
          )
      : undefined,
    onWebhookDeliveries,
  });
}
