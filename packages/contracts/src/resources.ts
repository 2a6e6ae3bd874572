/** A job's resource use over one span (apps/worker/src/training/resource-sampler.ts). */
export type ResourceSample = {
  /** ISO time of the span's start. */
  at: string;
  spanSeconds: number;
  /** The trainer's process tree, in % of one core (200 = two cores busy). */
  cpuPercent: number | null;
  rssBytes: number | null;
  /** The worker host's CPU in % of all its cores. */
  hostCpuPercent: number | null;
  /** Mean over the job's GPUs. */
  gpuUtil: number | null;
  gpuMemUsedMb: number | null;
  gpus: { index: number; util: number | null; memUsedMb: number | null; memTotalMb: number | null }[] | null;
};

/** How often a worker samples a running job's resources (the bound: every ≤ 5 s). */
export const RESOURCE_SAMPLE_MS = 5_000;
