import type { ResourceSample } from "@wyolo/contracts";
import type { ChartSeries as Series } from "./chart-math";

const GB = 1024 ** 3;
/** Time axis: the middle of each sample's span, in Unix seconds. */
const x = (s: ResourceSample) => Date.parse(s.at) / 1000 + s.spanSeconds / 2;

/**
 * Series of the job's resource samples: utilisation (each GPU, the host's CPUs) in %, and memory (each GPU's,
 * the trainer's RSS) in GB.
 */
export function resourceSeries(samples: readonly ResourceSample[]): { util: Series[]; memory: Series[] } {
  const gpuIndexes = [...new Set(samples.flatMap((s) => (s.gpus ?? []).map((g) => g.index)))].sort((a, b) => a - b);
  const perGpu = (pick: (g: NonNullable<ResourceSample["gpus"]>[number]) => number | null, scale = 1) =>
    gpuIndexes.map((index) =>
      samples.map((s): [number, number | null] => {
        const v = s.gpus?.find((g) => g.index === index);
        const value = v ? pick(v) : null;
        return [x(s), value === null ? null : value * scale];
      }),
    );
  const util: Series[] = [
    ...perGpu((g) => g.util).map((points, i) => ({ id: `gpu${gpuIndexes[i]}-util`, label: `GPU ${gpuIndexes[i]}`, points })),
    {
      id: "host-cpu",
      label: "host CPU",
      points: samples.map((s): [number, number | null] => [x(s), s.hostCpuPercent]),
      color: "#64748b",
      dash: [6, 4],
    },
  ];
  const memory: Series[] = [
    ...perGpu((g) => g.memUsedMb, 1 / 1024).map((points, i) => ({
      id: `gpu${gpuIndexes[i]}-mem`,
      label: `GPU ${gpuIndexes[i]} memory`,
      points,
    })),
    {
      id: "rss",
      label: "trainer RAM",
      points: samples.map((s): [number, number | null] => [x(s), s.rssBytes === null ? null : s.rssBytes / GB]),
      color: "#64748b",
      dash: [6, 4],
    },
  ];
  return { util, memory };
}
