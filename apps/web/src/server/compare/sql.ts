// The compare page's SQL, as statements without a client: the API runs them through Prisma and
// bench/compare.ts runs the very same text through a bare pg client (the raw query time it prints
// beside the API's). No "server-only" marker for that reason: nothing here reads the environment.
import { Prisma } from "@wyolo/db";

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

/** The jobs of the team among `ids`, with what the compare page says about each. */
export const compareJobsSql = (teamId: string, ids: string[]) => Prisma.sql`
  SELECT j."id", j."name", j."status"::text AS "status", j."model", j."task", j."config", j."createdAt", j."startedAt",
    j."finishedAt", j."bestEpoch", j."bestMetric", j."bestMetricName", j."totalEpochs", j."classMetrics", j."sweepId",
    s."name" AS "sweepName", j."trialNumber", p."id" AS "projectId", p."name" AS "projectName", p."slug" AS "projectSlug",
    ${JOB_FACT_COLUMNS}
  FROM "TrainingJob" j
  JOIN "Project" p ON p."id" = j."projectId"
  LEFT JOIN "Sweep" s ON s."id" = j."sweepId"
  ${JOB_FACT_JOINS}
  WHERE j."id" = ANY(${ids}::text[]) AND p."teamId" = ${teamId}`;

/**
 * Every recorded value of the jobs' epochs: one indexed range read of JobEpoch's primary key, one row
 * of JSON text per job (`[[epoch, losses, metrics, lr]…]` in epoch order), parsed once by the caller.
 * Measured for 10 jobs × 300 epochs × 20 metrics: a row per epoch costs more in the driver; merging
 * the three maps in SQL (`losses || metrics || lr`) doubled the statement's time; pivoting with
 * jsonb_each + json_agg took several times longer still.
 */
export const compareEpochsSql = (teamId: string, ids: string[]) => Prisma.sql`
  SELECT e."jobId",
    '[' || string_agg('[' || e."epoch" || ',' || e."losses"::text || ',' || e."metrics"::text || ',' || e."lr"::text || ']', ',' ORDER BY e."epoch") || ']' AS "epochs"
  FROM "JobEpoch" e
  WHERE e."jobId" IN (
    SELECT j."id" FROM "TrainingJob" j JOIN "Project" p ON p."id" = j."projectId"
    WHERE j."id" = ANY(${ids}::text[]) AND p."teamId" = ${teamId}
  )
  GROUP BY e."jobId"`;
