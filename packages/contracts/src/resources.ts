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

/** GPU utilisation under this (time-weighted share of the job) counts as "starved". */
export const INPUT_BOUND_GPU_UNDER = 50;
/** Host CPU at or above this counts as "saturated". */
export const INPUT_BOUND_CPU_AT_LEAST = 85;
/** The share of the covered time both must hold for. */
export const INPUT_BOUND_SHARE = 0.6;
/** Less covered time than this says nothing yet; the first minute (weights load, dataset scan, AMP check) is skipped. */
const MIN_COVERED_SECONDS = 60;
const WARMUP_SECONDS = 60;

export type InputBoundHint = {
  /** Time-weighted mean GPU utilisation over the starved spans, %. */
  gpuUtil: number;
  /** Time-weighted mean host CPU over the starved spans, %. */
  hostCpu: number;
  /** Share of the covered time (0–1) that was starved while the CPUs were saturated. */
  share: number;
  /** The bound the message names ("stayed under X%"): the starved spans' highest GPU utilisation, rounded up to 10. */
  gpuUnder: number;
  message: string;
};

/**
 * "The data loader is the bottleneck": the GPUs idled (under INPUT_BOUND_GPU_UNDER %) while the worker's CPUs were
 * saturated (at least INPUT_BOUND_CPU_AT_LEAST %) for most (INPUT_BOUND_SHARE) of the job after its first minute.
 * Null when it was not, when the job has no GPU, or when fewer than 60 s of samples say anything.
 */
export function inputBoundHint(samples: readonly ResourceSample[]): InputBoundHint | null {
  if (samples.length === 0) return null;
  const starts = samples.map((s) => Date.parse(s.at)).filter((t) => Number.isFinite(t));
  if (starts.length === 0) return null;
  const warmupEnd = Math.min(...starts) + WARMUP_SECONDS * 1000;
  let covered = 0;
  let starved = 0;
  let gpuSum = 0;
  let cpuSum = 0;
  let gpuMax = 0;
  for (const s of samples) {
    const start = Date.parse(s.at);
    if (!Number.isFinite(start) || s.gpuUtil === null || s.hostCpuPercent === null) continue;
    // The part of the span after the warm-up.
    const end = start + s.spanSeconds * 1000;
    const seconds = Math.max(0, end - Math.max(start, warmupEnd)) / 1000;
    if (seconds === 0) continue;
    covered += seconds;
    if (s.gpuUtil < INPUT_BOUND_GPU_UNDER && s.hostCpuPercent >= INPUT_BOUND_CPU_AT_LEAST) {
      starved += seconds;
      gpuSum += s.gpuUtil * seconds;
      cpuSum += s.hostCpuPercent * seconds;
      gpuMax = Math.max(gpuMax, s.gpuUtil);
    }
  }
  if (covered < MIN_COVERED_SECONDS || starved / covered < INPUT_BOUND_SHARE) return null;
  const gpuUnder = Math.min(INPUT_BOUND_GPU_UNDER, Math.max(10, Math.ceil((gpuMax + 0.001) / 10) * 10));
  return {
    gpuUtil: gpuSum / starved,
    hostCpu: cpuSum / starved,
    share: starved / covered,
    gpuUnder,
    message:
      `GPU utilisation stayed under ${gpuUnder}% while the worker's CPUs were saturated: the data loader is the ` +
      "bottleneck; try `cache: ram` or more `workers`",
  };
}
