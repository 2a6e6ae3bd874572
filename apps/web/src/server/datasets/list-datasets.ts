import "server-only";
import type { DatasetListAnswer } from "@wyolo/contracts";
import { db } from "../db";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { datasetSummarySelect, toDatasetSummary } from "./dataset-summary";
import { teamDatasetUsage } from "./usage";

export async function listDatasets(user: SessionUser, teamId: string): Promise<DatasetListAnswer> {
  const { team } = await teamAccess(user, { id: teamId }, "dataset.read");
  const rows = await db.dataset.findMany({ where: { teamId: team.id }, orderBy: { name: "asc" }, select: datasetSummarySelect });
  return { datasets: rows.map(toDatasetSummary), usage: await teamDatasetUsage(team.id) };
}
