import { describe, expect, it } from "vitest";
import type { ResourceSample } from "@wyolo/contracts";
import { resourceSeries } from "./resource-series";

const sample = (at: string, gpus: ResourceSample["gpus"], extra: Partial<ResourceSample> = {}): ResourceSample => ({
  at,
  spanSeconds: 10,
  cpuPercent: 250,
  rssBytes: 2 * 1024 ** 3,
  hostCpuPercent: 90,
  gpuUtil: null,
  gpuMemUsedMb: null,
  gpus,
  ...extra,
});

describe("resourceSeries", () => {
  it("draws each GPU's utilisation and memory, the host CPU and the trainer's RSS, at the middle of each span", () => {
    const t0 = "2026-12-01T10:00:00.000Z";
    const { util, memory } = resourceSeries([
      sample(t0, [
        { index: 0, util: 30, memUsedMb: 2048, memTotalMb: 8192 },
        { index: 1, util: 40, memUsedMb: 1024, memTotalMb: 8192 },
      ]),
      sample("2026-12-01T10:00:10.000Z", [{ index: 1, util: 45, memUsedMb: 1536, memTotalMb: 8192 }], { rssBytes: null }),
    ]);
    const x0 = Date.parse(t0) / 1000 + 5;
    expect(util.map((s) => s.label)).toEqual(["GPU 0", "GPU 1", "host CPU"]);
    expect(util[0]!.points).toEqual([
      [x0, 30],
      [x0 + 10, null],
    ]);
    expect(util[2]!.points).toEqual([
      [x0, 90],
      [x0 + 10, 90],
    ]);
    expect(memory.map((s) => s.label)).toEqual(["GPU 0 memory", "GPU 1 memory", "trainer RAM"]);
    expect(memory[1]!.points).toEqual([
      [x0, 1],
      [x0 + 10, 1.5],
    ]);
    expect(memory[2]!.points).toEqual([
      [x0, 2],
      [x0 + 10, null],
    ]);
  });

  it("has only the CPU and RAM lines for a job on CPU", () => {
    const { util, memory } = resourceSeries([sample("2026-12-01T10:00:00.000Z", null)]);
    expect(util.map((s) => s.id)).toEqual(["host-cpu"]);
    expect(memory.map((s) => s.id)).toEqual(["rss"]);
  });
});
