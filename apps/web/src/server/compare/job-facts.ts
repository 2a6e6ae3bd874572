import "server-only";
import { Prisma } from "@wyolo/db";

// What the compare page and the leaderboard both say about a job beyond its row: the dataset it
// trained from, how many GPUs it used and what that cost in GPU-hours.

/**
 * SQL columns for a job aliased `j`: `dataset` (`<name>@v<N>` for a dataset version, as
 * datasetVersionLabel writes it, else the config's `train.data`) and `sampledGpus` (the most GPUs
 * any of its resource samples saw; 0 when samples exist without GPUs; null without samples).
 * Needs the LEFT JOINs of JOB_FACT_JOINS.
 */
export const JOB_FACT_COLUMNS = Prisma.sql`
  CASE WHEN dv."id" IS NOT NULL THEN d."name" || '@v' || dv."version" ELSE j."config"->'train'->>'data' END AS "dataset",
  g."gpus" AS "sampledGpus"`;

export const JOB_FACT_JOINS = Prisma.sql`
  LEFT JOIN "DatasetVersion" dv ON dv."id" = j."datasetVersionId"
  LEFT JOIN "Dataset" d ON d."id" = dv."datasetId"
  LEFT JOIN LATERAL (
    SELECT max(CASE WHEN jsonb_typeof(r."gpus") = 'array' THEN jsonb_array_length(r."gpus") ELSE 0 END)::int AS "gpus"
    FROM "JobResourceSample" r WHERE r."jobId" = j."id"
  ) g ON true`;

export type JobFactRow = {
  config: unknown;
  startedAt: Date | null;
  finishedAt: Date | null;
  sampledGpus: number | null;
};

/**
 * Duration (start to finish, or to now while it runs) and GPU-hours = duration × GPUs: the GPUs its
 * resource samples saw, else its config's `gpus` (0 = CPU); null when neither says (an old job
 * without samples that let the worker choose).
 */
export function jobCost(row: JobFactRow, now = Date.now()) {
  const durationSeconds = row.startedAt ? Math.max(0, ((row.finishedAt?.getTime() ?? now) - row.startedAt.getTime()) / 1000) : null;
  const configGpus = (row.config as { gpus?: unknown } | null)?.gpus;
  const gpus = row.sampledGpus ?? (typeof configGpus === "number" ? configGpus : null);
  const gpuHours = durationSeconds === null || gpus === null ? null : (durationSeconds / 3600) * gpus;
  return { durationSeconds, gpus, gpuHours };
}

export const iso = (d: Date | null) => (d ? d.toISOString() : null);
