import { execFile } from "node:child_process";
import type { GpuStats } from "@wyolo/contracts";

const QUERY = "index,uuid,name,memory.total,memory.used,memory.free,utilization.gpu,temperature.gpu";

type Gpu = Omit<GpuStats, "jobId">;

const num = (v: string | undefined) => {
  const n = Number(v?.trim());
  return Number.isFinite(n) ? n : null;
};

/** Parses `nvidia-smi --query-gpu=<QUERY> --format=csv,noheader,nounits`. */
export function parseNvidiaSmi(csv: string): Gpu[] {
  return csv
    .split("\n")
    .map((line) => line.split(",").map((c) => c.trim()))
    .filter((cells) => cells.length >= 8 && num(cells[0]) !== null)
    .map(([index, uuid, name, total, used, free, util, temp]) => ({
      index: num(index)!,
      uuid: uuid!,
      name: name!,
      memoryTotalMb: num(total) ?? 0,
      memoryUsedMb: num(used) ?? 0,
      memoryFreeMb: num(free) ?? 0,
      utilizationPercent: num(util) ?? 0,
      temperatureC: num(temp),
    }));
}

/** The GPUs of this host; none (no nvidia-smi, no driver) means a CPU-only worker. */
export function queryGpus(nvidiaSmi: string): Promise<Gpu[]> {
  return new Promise((resolve) => {
    execFile(nvidiaSmi, [`--query-gpu=${QUERY}`, "--format=csv,noheader,nounits"], { timeout: 10_000 }, (err, stdout) =>
      resolve(err ? [] : parseNvidiaSmi(stdout)),
    );
  });
}

export type Placement = { device: string; gpuIndexes: number[] } | { waitReason: string };

/**
 * Gives each running job GPUs of its own. A GPU is eligible when no job of this worker holds
 * it, its free memory covers the job's need and its load is under the ceiling (the old
 * service's MAX_GPU). Jobs see their GPUs renumbered from 0 through CUDA_VISIBLE_DEVICES.
 */
export class GpuAllocator {
  private readonly held = new Map<number, string>();

  constructor(private readonly limits: { minFreeMb: number; maxUtilizationPercent: number }) {}

  place(jobId: string, wanted: number | undefined, gpus: Gpu[]): Placement {
    const count = wanted ?? (gpus.length ? 1 : 0);
    if (count === 0) return { device: "cpu", gpuIndexes: [] };
    if (gpus.length < count) return { waitReason: `needs ${count} GPU(s); this worker has ${gpus.length}` };
    const eligible = gpus
      .filter(
        (g) =>
          !this.held.has(g.index) && g.memoryFreeMb >= this.limits.minFreeMb && g.utilizationPercent <= this.limits.maxUtilizationPercent,
      )
      .sort((a, b) => b.memoryFreeMb - a.memoryFreeMb);
    if (eligible.length < count) {
      return {
        waitReason: `needs ${count} GPU(s) with ≥ ${this.limits.minFreeMb} MB free and load ≤ ${this.limits.maxUtilizationPercent}%; ${eligible.length} available`,
      };
    }
    const chosen = eligible
      .slice(0, count)
      .map((g) => g.index)
      .sort((a, b) => a - b);
    for (const i of chosen) this.held.set(i, jobId);
    return { device: chosen.map((_, i) => i).join(","), gpuIndexes: chosen };
  }

  release(jobId: string) {
    for (const [index, holder] of this.held) if (holder === jobId) this.held.delete(index);
  }

  holderOf(index: number): string | null {
    return this.held.get(index) ?? null;
  }
}
