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
