import "server-only";
import { EXPORT_FORMATS, WORKER_OFFLINE_AFTER_MS, workersKey, type ExportFormat, type WorkerReport } from "@wyolo/contracts";
import { env } from "@/env";
import { redis } from "../redis";
import { withTimeout } from "../timeout";

/** The export formats online workers report they can produce (their images differ). */
export async function availableExportFormats(now = Date.now()): Promise<ExportFormat[]> {
  const raw = await withTimeout(redis.hgetall(workersKey(env.TRAINING_QUEUE)), 3_000, "worker list");
  const formats = new Set<string>();
  for (const value of Object.values(raw)) {
    try {
      const r = JSON.parse(value) as WorkerReport;
      if (now - Date.parse(r.lastSeen) <= WORKER_OFFLINE_AFTER_MS && !r.draining) for (const f of r.exportFormats ?? []) formats.add(f);
    } catch {
      // a report that is not JSON is dropped by the Workers page
    }
  }
  return EXPORT_FORMATS.filter((f) => formats.has(f));
}
