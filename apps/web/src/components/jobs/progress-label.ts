import type { JobSummary } from "@wyolo/contracts";
import { formatDuration } from "@/lib/format";

/** The progress bar's words: waiting, "epoch 3/50 · ETA 1m 5s", or "finishing…" once the last epoch is in. */
export function progressLabel(job: JobSummary): string {
  if (job.status === "QUEUED") return job.attempt > 0 ? "re-queued" : "waiting for a worker";
  const epoch = `epoch ${job.currentEpoch ?? 0}/${job.totalEpochs}`;
  if (job.status === "RUNNING" || job.status === "STARTING") {
    // After the last epoch Ultralytics still validates best.pt and the worker uploads: not "ETA 0s".
    if (job.totalEpochs > 0 && (job.currentEpoch ?? 0) >= job.totalEpochs) return `${epoch} · finishing…`;
    return job.etaSeconds != null && job.etaSeconds >= 0.5 ? `${epoch} · ETA ${formatDuration(job.etaSeconds)}` : epoch;
  }
  return epoch;
}
