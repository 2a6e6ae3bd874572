import "server-only";
import type { DatasetDetail } from "@wyolo/contracts";
import { db } from "../db";
import { allows } from "../access";
import type { SessionUser } from "../auth/session";
import { datasetAccess } from "./dataset-access";
import { datasetSummarySelect, toDatasetSummary, toVersionSummary, versionSummarySelect } from "./dataset-summary";

export async function getDataset(user: SessionUser, datasetId: string): Promise<DatasetDetail> {
  const access = await datasetAccess(user, datasetId, "dataset.read");
  const row = await db.dataset.findUniqueOrThrow({ where: { id: datasetId }, select: datasetSummarySelect });
  const versions = await db.datasetVersion.findMany({ where: { datasetId }, orderBy: { version: "desc" }, select: versionSummarySelect });
  return {
    ...toDatasetSummary(row),
    team: access.team,
    versions: versions.map(toVersionSummary),
    canUpload: allows(access, "dataset.upload"),
    canDelete: allows(access, "dataset.delete"),
  };
}
