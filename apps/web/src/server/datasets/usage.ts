import "server-only";
import type { DatasetUsage } from "@wyolo/contracts";
import { env } from "@/env";
import type { Db } from "@wyolo/db";
import { db } from "../db";

type Sql = Pick<Db, "$queryRaw">;

/**
 * What a team's datasets hold: each distinct stored file once (blobs are shared between versions),
 * plus the archives still uploading or waiting for validation at their declared size.
 */
export async function teamDatasetBytes(teamId: string, sql: Sql = db): Promise<number> {
  const [row] = await sql.$queryRaw<{ blobs: bigint | null; uploads: bigint | null }[]>`
    SELECT
      (SELECT SUM(b."size") FROM (
         SELECT DISTINCT i."sha256", i."size" FROM "DatasetItem" i
         JOIN "DatasetVersion" v ON v."id" = i."versionId" JOIN "Dataset" d ON d."id" = v."datasetId"
         WHERE d."teamId" = ${teamId}) b)::bigint AS "blobs",
      (SELECT SUM(v."uploadSize") FROM "DatasetVersion" v JOIN "Dataset" d ON d."id" = v."datasetId"
         WHERE d."teamId" = ${teamId} AND v."status" IN ('UPLOADING', 'VALIDATING'))::bigint AS "uploads"`;
  return Number(row?.blobs ?? 0) + Number(row?.uploads ?? 0);
}

export async function teamDatasetUsage(teamId: string): Promise<DatasetUsage> {
  return {
    usedBytes: await teamDatasetBytes(teamId),
    quotaBytes: env.DATASET_TEAM_QUOTA_BYTES,
    maxUploadBytes: env.DATASET_MAX_UPLOAD_BYTES,
  };
}
