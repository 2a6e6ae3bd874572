import "server-only";
import type { CreateDatasetInput, DatasetSummary } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import { AppError } from "../errors";
import { isUniqueViolation } from "../db-errors";
import type { SessionUser } from "../auth/session";
import { datasetSummarySelect, toDatasetSummary } from "./dataset-summary";

export async function createDataset(
  user: SessionUser,
  teamId: string,
  input: Required<CreateDatasetInput>,
  ip: string,
): Promise<DatasetSummary> {
  const { team } = await teamAccess(user, { id: teamId }, "dataset.upload");
  try {
    return await db.$transaction(async (tx) => {
      const row = await tx.dataset.create({
        data: { teamId: team.id, name: input.name, description: input.description, createdById: user.id },
        select: datasetSummarySelect,
      });
      await audit(tx, {
        actorId: user.id,
        action: "dataset.create",
        targetType: "dataset",
        targetId: row.id,
        teamId: team.id,
        ip,
        metadata: { name: row.name },
      });
      return toDatasetSummary(row);
    });
  } catch (err) {
    if (isUniqueViolation(err))
      throw new AppError("CONFLICT", "The team has a dataset of that name", { name: ["The team has a dataset of that name"] });
    throw err;
  }
}
