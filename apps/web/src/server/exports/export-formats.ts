import "server-only";
import { EXPORT_FORMATS, isWorkerOnline, parseWorkerReport, workersKey, type ExportFormat } from "@wyolo/contracts";
import { env } from "@/env";
import { redis } from "../redis";
import { withTimeout } from "../timeout";

/**
 * The export formats online workers report they can produce (their images differ), and those
 * offered by a worker with a GPU (for exports that need one).
 */
export async function exportCapabilities(now = Date.now()): Promise<{ formats: ExportFormat[]; onGpu: ExportFormat[] }> {
  const raw = await withTimeout(redis.hgetall(workersKey(env.TRAINING_QUEUE)), 3_000, "worker list");
  const formats = new Set<string>();
  const onGpu = new Set<string>();
  for (const value of Object.values(raw)) {
    const r = parseWorkerReport(value);
    if (!r || !isWorkerOnline(r, now)) continue;
    for (const f of r.exportFormats ?? []) {
      formats.add(f);
      if (r.gpus.length) onGpu.add(f);
    }
  }
  return { formats: EXPORT_FORMATS.filter((f) => formats.has(f)), onGpu: EXPORT_FORMATS.filter((f) => onGpu.has(f)) };
}
