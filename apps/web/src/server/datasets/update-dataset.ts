import "server-only";
import type { DatasetSummary, UpdateDatasetInput } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import type { SessionUser } from "../auth/session";
import { datasetAccess } from "./dataset-access";
import { datasetSummarySelect, toDatasetSummary } from "./dataset-summary";

export async function updateDataset(user: SessionUser, datasetId: string, input: UpdateDatasetInput, ip: string): Promise<DatasetSummary> {
  const { team } = await datasetAccess(user, datasetId, "dataset.upload");
  return db.$transaction(async (tx) => {
    const row = await tx.dataset.update({
      where: { id: datasetId },
      data: { description: input.description },
      select: datasetSummarySelect,
    });
    await audit(tx, { actorId: user.id, action: "dataset.update", targetType: "dataset", targetId: datasetId, teamId: team.id, ip });
    return toDatasetSummary(row);
  });
}
