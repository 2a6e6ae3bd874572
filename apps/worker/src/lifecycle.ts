import { createLifecycle, type Db } from "@wyolo/db";
import type { Logger } from "./logger.ts";
import type { LivePublisher } from "./realtime.ts";

/** The worker side's status changes: @wyolo/db's lifecycle over this worker's live publisher. */
export function workerLifecycle(db: Db, live: LivePublisher, log: Logger) {
  return createLifecycle({
    db,
    log,
    publish: (notice) => {
      if (notice.kind === "training") live.jobUpdated(notice.patch);
      else if (notice.kind === "export") live.exportUpdated(notice.patch);
      else if (notice.kind === "sweep") return live.sweepUpdated(notice.patch);
      if (notice.event) live.event(notice.jobId, notice.event);
    },
  });
}
