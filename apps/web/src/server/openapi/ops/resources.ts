import { z } from "zod";
import type { ApiOperation } from "../operations";

const share = z.number().nullable();
export const resourceSampleSchema = z
  .object({
    at: z.iso.datetime({ offset: true }).describe("Start of the span this sample covers"),
    spanSeconds: z.int().describe("Seconds covered: 5 while a job is young, more once older samples are merged"),
    cpuPercent: share.describe("The trainer's process tree, % of one core (200 = two cores busy)"),
    rssBytes: z.number().nullable().describe("The trainer's process tree, resident memory"),
    hostCpuPercent: share.describe("The worker host's CPU, % of all its cores"),
    gpuUtil: share.describe("Mean utilisation of the job's GPUs, %; null on CPU"),
    gpuMemUsedMb: share.describe("Mean memory used on the job's GPUs, MiB"),
    gpus: z
      .array(z.object({ index: z.int(), util: share, memUsedMb: share, memTotalMb: share }))
      .nullable()
      .describe("Each of the job's GPUs"),
  })
  .meta({ id: "ResourceSample" });

/** The resources routes (one entry per route file and method), with their answer schemas beside them. */
export const RESOURCES_OPERATIONS: ApiOperation[] = [
  {
    id: "getJobResources",
    method: "get",
    path: "/jobs/{jobId}/resources",
    tag: "Jobs",
    summary: "A job's GPU, CPU and memory use over time",
    description:
      "Sampled every 5 s while the trainer runs; older samples are merged pairwise so a job keeps at most about 1,000 " +
      "(`spanSeconds` says what each covers). Live updates: the `job:resources` socket event.",
    auth: "user",
    ok: [{ status: 200, description: "Samples, oldest first", schema: z.object({ samples: z.array(resourceSampleSchema) }) }],
  },
];
