import { z } from "zod";

/**
 * Redis hash of the reports of the workers of one queue: field = worker name, value = JSON
 * WorkerReport. Per queue, so deployments (or test runs) sharing a Redis do not see each other's.
 */
export const workersKey = (queue: string) => `wyolo:workers:${queue}`;
/** A worker not heard from for this long is shown offline. */
export const WORKER_OFFLINE_AFTER_MS = 30_000;

export type GpuStats = {
  index: number;
  uuid: string;
  name: string;
  memoryTotalMb: number;
  memoryUsedMb: number;
  memoryFreeMb: number;
  utilizationPercent: number;
  temperatureC: number | null;
  /** The job placed on this GPU by its worker, if any. */
  jobId: string | null;
};

export type WorkerReport = {
  name: string;
  host: string;
  pid: number;
  startedAt: string;
  lastSeen: string;
  concurrency: number;
  draining: boolean;
  trainer: { ok: boolean; problem?: string; details: Record<string, unknown> };
  gpus: GpuStats[];
  runningJobIds: string[];
  /** Model export formats this worker's image can produce (empty when it cannot export). */
  exportFormats?: string[];
};

// The fields the readers rely on; a report missing them (or not JSON) is dropped.
const reportShape = z.looseObject({
  name: z.string(),
  lastSeen: z.string().refine((s) => !Number.isNaN(Date.parse(s))),
  draining: z.boolean(),
  gpus: z.array(z.looseObject({ index: z.number() })),
  runningJobIds: z.array(z.string()),
  trainer: z.looseObject({ ok: z.boolean() }),
});

/** One field of the workers hash, or null when it is not a worker report. */
export function parseWorkerReport(raw: string): WorkerReport | null {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return null;
  }
  return reportShape.safeParse(value).success ? (value as WorkerReport) : null;
}

/** Heard from lately and not stopping: it takes jobs. */
export function isWorkerOnline(report: Pick<WorkerReport, "lastSeen" | "draining">, now = Date.now()): boolean {
  return !report.draining && now - Date.parse(report.lastSeen) <= WORKER_OFFLINE_AFTER_MS;
}
