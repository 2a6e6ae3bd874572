import { describe, expect, it } from "vitest";
import { inputBoundHint, type ResourceSample } from "../src/resources.ts";

const t0 = Date.parse("2026-01-01T00:00:00Z");

/** `count` 5 s samples from `fromSecond`, each with the given GPU and host CPU. */
function series(fromSecond: number, count: number, gpuUtil: number | null, hostCpuPercent: number | null): ResourceSample[] {
  return Array.from({ length: count }, (_, i) => ({
    at: new Date(t0 + (fromSecond + i * 5) * 1000).toISOString(),
    spanSeconds: 5,
    cpuPercent: 350,
    rssBytes: 2e9,
    hostCpuPercent,
    gpuUtil,
    gpuMemUsedMb: gpuUtil === null ? null : 4000,
    gpus: gpuUtil === null ? null : [{ index: 0, util: gpuUtil, memUsedMb: 4000, memTotalMb: 24000 }],
  }));
}

describe("inputBoundHint", () => {
  it("names a starved GPU beside saturated CPUs, with the bound it stayed under", () => {
    const hint = inputBoundHint([...series(0, 12, 0, 100), ...series(60, 60, 23, 97)]);
    expect(hint).not.toBeNull();
    expect(hint!.gpuUnder).toBe(30);
    expect(hint!.gpuUtil).toBeCloseTo(23);
    expect(hint!.hostCpu).toBeCloseTo(97);
    expect(hint!.share).toBe(1);
    expect(hint!.message).toBe(
      "GPU utilisation stayed under 30% while the worker's CPUs were saturated: the data loader is the bottleneck; " +
        "try `cache: ram` or more `workers`",
    );
  });

  it("says nothing when the GPU is busy, or idle while the CPUs are idle too", () => {
    expect(inputBoundHint(series(0, 100, 95, 100))).toBeNull();
    expect(inputBoundHint(series(0, 100, 10, 30))).toBeNull();
  });

  it("says nothing on CPU jobs (no GPU figures) or hosts that gave no CPU figure", () => {
    expect(inputBoundHint(series(0, 100, null, 100))).toBeNull();
    expect(inputBoundHint(series(0, 100, 5, null))).toBeNull();
    expect(inputBoundHint([])).toBeNull();
  });

  it("skips the first minute and wants another minute of samples before it speaks", () => {
    // The first minute alone (weights load, dataset scan) looks starved: that is not a bottleneck.
    expect(inputBoundHint(series(0, 12, 0, 100))).toBeNull();
    expect(inputBoundHint(series(0, 20, 5, 100))).toBeNull(); // 40 s past the warm-up
    expect(inputBoundHint(series(0, 24, 5, 100))).not.toBeNull(); // 60 s past it
  });

  it("needs most of the time starved: a short data-loading stall is not a hint", () => {
    const stalls = [...series(0, 32, 10, 100), ...series(160, 40, 90, 60)];
    expect(inputBoundHint(stalls)).toBeNull(); // 100 s of the 300 s after the warm-up
    const mostly = [...series(0, 52, 10, 100), ...series(260, 20, 90, 60)];
    expect(inputBoundHint(mostly)?.share).toBeCloseTo(200 / 300);
  });

  it("weights downsampled rows by the span they cover", () => {
    const merged: ResourceSample[] = [
      { ...series(0, 1, 10, 100)[0]!, spanSeconds: 600 }, // 540 s past the warm-up, starved
      { ...series(600, 1, 90, 100)[0]!, spanSeconds: 300 }, // busy
    ];
    expect(inputBoundHint(merged)?.share).toBeCloseTo(540 / 840);
  });

  it("never claims a bound above the starvation threshold", () => {
    expect(inputBoundHint(series(0, 40, 49.5, 90))?.gpuUnder).toBe(50);
    expect(inputBoundHint(series(0, 40, 0, 90))?.gpuUnder).toBe(10);
  });
});
