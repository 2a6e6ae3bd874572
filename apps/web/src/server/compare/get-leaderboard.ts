import "server-only";
import type { z } from "zod";
import { HEADLINE_METRIC_KEYS, lowerIsBetter, type LeaderboardAnswer, type leaderboardQuerySchema } from "@wyolo/contracts";
import { Prisma } from "@wyolo/db";
import { db } from "../db";
import { projectAccess } from "../access";
import { AppError } from "../errors";
import type { SessionUser } from "../auth/session";
import { iso, jobCost, type JobFactRow } from "./job-facts";
import { JOB_FACT_COLUMNS, JOB_FACT_JOINS } from "./sql";

type Query = z.infer<typeof leaderboardQuerySchema>;

/** The project's finished jobs, each with the epoch it is ranked at: its best (best.pt's), else its last. */
const finished = (projectId: string) => Prisma.sql`
  fin AS (
    SELECT j.*, COALESCE(j."bestEpoch", (SELECT max(e."epoch") FROM "JobEpoch" e WHERE e."jobId" = j."id")) AS "at"
    FROM "TrainingJob" j
    WHERE j."projectId" = ${projectId} AND j."status" = 'SUCCEEDED'
  )`;

type Meta = { total: number; metrics: string[]; headline: string | null };

type Row = JobFactRow & {
  id: string;
  name: string;
  model: string;
  task: string;
  sweepId: string | null;
  sweepName: string | null;
  trialNumber: number | null;
  at: number | null;
  value: number | null;
  epochs: number | null;
  imgsz: number | null;
  batch: number | null;
  lr0: number | null;
  optimizer: string | null;
};

/** A number from a jsonb value, null for anything else (a string where a number was expected must not fail the query). */
const num = (v: Prisma.Sql) => Prisma.sql`CASE WHEN jsonb_typeof(${v}) = 'number' THEN (${v})::text::float8 END`;

/**
 * The project's finished jobs ranked by one metric at their best epoch (losses ascending, anything
 * else descending; jobs without the metric last), with key arguments, duration and GPU-hours.
 */
export async function getLeaderboard(user: SessionUser, projectId: string, query: Query): Promise<LeaderboardAnswer> {
  const { project } = await projectAccess(user, { id: projectId }, "job.read");
  const [meta] = await db.$queryRaw<Meta[]>`
    WITH ${finished(project.id)}
    SELECT (SELECT count(*) FROM fin)::int AS "total",
      COALESCE((
        SELECT array_agg(DISTINCT k ORDER BY k)
        FROM fin JOIN "JobEpoch" e ON e."jobId" = fin."id" AND e."epoch" = fin."at"
        CROSS JOIN LATERAL jsonb_object_keys(e."losses" || e."metrics" || e."lr") k
      ), '{}') AS "metrics",
      (SELECT "bestMetricName" FROM fin WHERE "bestMetricName" IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1) AS "headline"`;
  const { total, metrics, headline } = meta!;
  const metric = query.metric ?? headline ?? HEADLINE_METRIC_KEYS.find((k) => metrics.includes(k)) ?? metrics[0] ?? "metrics/mAP50-95(B)";
  if (query.metric && metrics.length && !metrics.includes(query.metric))
    throw new AppError("VALIDATION_FAILED", "Some fields are invalid", {
      metric: [`No finished job of this project recorded “${query.metric}”; one of: ${metrics.join(", ")}`],
    });
  const order = lowerIsBetter(metric) ? "asc" : "desc";
  const value = Prisma.sql`(e."losses" || e."metrics" || e."lr") -> ${metric}`;
  const train = (key: string) => Prisma.sql`j."config" -> 'train' -> ${key}`;
  const rows = await db.$queryRaw<Row[]>`
    WITH ${finished(project.id)}
    SELECT j."id", j."name", j."model", j."task", j."config", j."startedAt", j."finishedAt", j."sweepId", s."name" AS "sweepName",
      j."trialNumber", j."at", ${num(value)} AS "value", ${num(train("epochs"))} AS "epochs", ${num(train("imgsz"))} AS "imgsz",
      ${num(train("batch"))} AS "batch", ${num(train("lr0"))} AS "lr0", j."config" -> 'train' ->> 'optimizer' AS "optimizer",
      ${JOB_FACT_COLUMNS}
    FROM fin j
    LEFT JOIN "JobEpoch" e ON e."jobId" = j."id" AND e."epoch" = j."at"
    LEFT JOIN "Sweep" s ON s."id" = j."sweepId"
    ${JOB_FACT_JOINS}
    ORDER BY "value" ${Prisma.raw(order === "asc" ? "ASC" : "DESC")} NULLS LAST, j."finishedAt" DESC, j."id"
    LIMIT ${query.limit}`;
  return {
    metric,
    order,
    metrics,
    total,
    rows: rows.map((r, i) => ({
      rank: i + 1,
      id: r.id,
      name: r.name,
      model: r.model,
      task: r.task,
      sweep: r.sweepId ? { id: r.sweepId, name: r.sweepName ?? "", trialNumber: r.trialNumber } : null,
      value: r.value,
      epoch: r.at,
      args: { epochs: r.epochs, imgsz: r.imgsz, batch: r.batch, lr0: r.lr0, optimizer: r.optimizer },
      ...jobCost(r),
      finishedAt: iso(r.finishedAt),
    })),
  };
}
