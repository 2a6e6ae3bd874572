import { describe, expect, it } from "vitest";
import { GpuAllocator, parseNvidiaSmi } from "../src/gpus.ts";

const SMI = `0, GPU-aaa, NVIDIA H100 80GB HBM3, 81559, 1200, 80359, 3, 34
1, GPU-bbb, NVIDIA H100 80GB HBM3, 81559, 70000, 11559, 97, 71
2, GPU-ccc, NVIDIA H100 80GB HBM3, 81559, 500, 81059, 0, [N/A]
`;

describe("GPU discovery and placement", () => {
  it("parses nvidia-smi's CSV", () => {
    const gpus = parseNvidiaSmi(SMI);
    expect(gpus).toHaveLength(3);
    expect(gpus[0]).toEqual({
      index: 0,
      uuid: "GPU-aaa",
      name: "NVIDIA H100 80GB HBM3",
      memoryTotalMb: 81559,
      memoryUsedMb: 1200,
      memoryFreeMb: 80359,
      utilizationPercent: 3,
      temperatureC: 34,
    });
    expect(gpus[2]!.temperatureC).toBeNull();
    expect(parseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.")).toEqual([]);
  });

  it("gives each job free GPUs of its own, renumbered from 0, and skips busy or full ones", () => {
    const gpus = parseNvidiaSmi(SMI);
    const alloc = new GpuAllocator({ minFreeMb: 20_000, maxUtilizationPercent: 60 });
    expect(alloc.place("a", undefined, gpus)).toEqual({ device: "0", gpuIndexes: [2] });
    expect(alloc.place("b", 1, gpus)).toEqual({ device: "0", gpuIndexes: [0] });
    // GPU 1 is too loaded and too full: nothing left.
    expect(alloc.place("c", 1, gpus)).toMatchObject({ waitReason: expect.stringContaining("0 available") });
    alloc.release("a");
    expect(alloc.place("c", 1, gpus)).toEqual({ device: "0", gpuIndexes: [2] });
    expect(alloc.holderOf(0)).toBe("b");
  });

  it("places multi-GPU jobs and CPU jobs", () => {
    const gpus = parseNvidiaSmi(SMI);
    const alloc = new GpuAllocator({ minFreeMb: 1000, maxUtilizationPercent: 100 });
    expect(alloc.place("multi", 3, gpus)).toEqual({ device: "0,1,2", gpuIndexes: [0, 1, 2] });
    expect(alloc.place("cpu", 0, gpus)).toEqual({ device: "cpu", gpuIndexes: [] });
    expect(new GpuAllocator({ minFreeMb: 0, maxUtilizationPercent: 100 }).place("x", undefined, [])).toEqual({
      device: "cpu",
      gpuIndexes: [],
    });
    expect(new GpuAllocator({ minFreeMb: 0, maxUtilizationPercent: 100 }).place("x", 2, [])).toMatchObject({
      waitReason: "needs 2 GPU(s); this worker has 0",
    });
  });
});
