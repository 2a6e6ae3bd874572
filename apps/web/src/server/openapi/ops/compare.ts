import { z } from "zod";
import {
  classMetricsSchema,
  compareQuerySchema,
  JOB_STATUSES,
  leaderboardQuerySchema,
  type CompareAnswer,
  type LeaderboardAnswer,
} from "@wyolo/contracts";
import type { ApiOperation } from "../operations";

const isoDate = z.iso.datetime({ offset: true });
const valueMap = z.record(z.string(), z.number().nullable());
const byJob = <T extends z.ZodType>(schema: T) => z.record(z.string(), schema).describe("By job id");
const sweepRef = z.object({ id: z.string(), name: z.string(), trialNumber: z.int().nullable() }).nullable();
const cost = {
  durationSeconds: z.number().nullable().describe("Start to finish (to now while it runs)"),
  gpus: z.int().nullable().describe("GPUs it used: its resource samples, else its config's `gpus`; 0 on CPU; null when unknown"),
  gpuHours: z.number().nullable().describe("durationSeconds / 3600 × gpus"),
};

const compareJobSchema = z.object({
  id: z.string(),
  name: z.string(),
  project: z.object({ id: z.string(), name: z.string(), slug: z.string() }),
  status: z.enum(JOB_STATUSES),
  model: z.string(),
  task: z.string(),
  dataset: z.string().nullable().describe("`<name>@v<N>` for a dataset version, else the config's `train.data`"),
  sweep: sweepRef,
  createdAt: isoDate,
  startedAt: isoDate.nullable(),
  finishedAt: isoDate.nullable(),
  ...cost,
  best: z.object({ name: z.string(), value: z.number(), epoch: z.int() }).nullable().describe("Its best epoch (best.pt's)"),
  epochs: z.int().describe("Epochs recorded"),
  totalEpochs: z.int(),
});

export const compareAnswerSchema = z
  .object({
    jobs: z.array(compareJobSchema).describe("In the order asked for"),
    params: byJob(z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))).describe(
      "By job id: the flattened config (train arguments by name, plus model, task, gpus…)",
    ),
    differing: z.array(z.string()).describe("Param keys whose value differs between the jobs"),
    final: byJob(valueMap).describe("By job id: every value of its last epoch"),
    best: byJob(valueMap).describe("By job id: every value of its best epoch"),
    classMetrics: byJob(z.array(classMetricsSchema).nullable()).describe("By job id: per-class metrics of the final validation"),
    series: z
      .record(z.string(), byJob(z.array(z.tuple([z.int(), z.number().nullable()]))))
      .describe("By metric key, then job id: [epoch, value] pairs in epoch order"),
  })
  .meta({ id: "Comparison" }) satisfies z.ZodType<CompareAnswer>;

export const leaderboardSchema = z
  .object({
    metric: z.string(),
    order: z.enum(["asc", "desc"]).describe("asc for losses (lower is better)"),
    metrics: z.array(z.string()).describe("Metrics recorded at the best epoch of any finished job"),
    total: z.int().describe("Finished (SUCCEEDED) jobs of the project"),
    rows: z.array(
      z.object({
        rank: z.int(),
        id: z.string(),
        name: z.string(),
        model: z.string(),
        task: z.string(),
        sweep: sweepRef,
        value: z.number().nullable().describe("The metric at the job's best epoch"),
        epoch: z.int().nullable(),
        args: z.object({
          epochs: z.number().nullable(),
          imgsz: z.number().nullable(),
          batch: z.number().nullable(),
          lr0: z.number().nullable(),
          optimizer: z.string().nullable(),
        }),
        ...cost,
        finishedAt: isoDate.nullable(),
      }),
    ),
  })
  .meta({ id: "Leaderboard" }) satisfies z.ZodType<LeaderboardAnswer>;

/** The compare routes (one entry per route file and method), with their answer schemas beside them. */
export const COMPARE_OPERATIONS: ApiOperation[] = [
  {
    id: "compareJobs",
    method: "get",
    path: "/teams/{teamId}/compare",
    tag: "Compare",
    summary: "Compare 2–20 jobs of a team's projects",
    description:
      "Overlaid curves (`series`: every recorded loss, val loss, metric and lr per epoch), the params that differ, final and best " +
      "metrics, per-class metrics. An id that is not a job of this team (unknown or another team's) answers 404 without naming it.",
    auth: "user",
    query: compareQuerySchema,
    ok: [{ status: 200, description: "The comparison", schema: compareAnswerSchema }],
  },
  {
    id: "getLeaderboard",
    method: "get",
    path: "/projects/{projectId}/leaderboard",
    tag: "Compare",
    summary: "A project's finished jobs ranked by a metric at their best epoch",
    description:
      "Losses rank ascending, other metrics descending; jobs without the metric last. Without `metric`, the project's headline " +
      "metric. A metric no finished job recorded answers 422 listing those that were.",
    auth: "user",
    query: leaderboardQuerySchema,
    ok: [{ status: 200, description: "The ranking", schema: leaderboardSchema }],
  },
];
