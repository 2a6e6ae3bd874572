/** Redis hash of worker reports: field = worker name, value = JSON WorkerReport. */
export const WORKERS_KEY = "wyolo:workers";
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
