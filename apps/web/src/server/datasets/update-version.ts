import "server-only";
import { emitDatasetVersion } from "../realtime/emitter";
import type { DatasetVersionSummary, UpdateVersionInput } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import type { SessionUser } from "../auth/session";
import { versionAccess } from "./dataset-access";
import { toVersionSummary, versionSummarySelect } from "./dataset-summary";

/** Archive (hidden from pickers, refused for new jobs, kept for the jobs that used it) or unarchive. */
export async function updateVersion(
  user: SessionUser,
  versionId: string,
  input: UpdateVersionInput,
  ip: string,
): Promise<DatasetVersionSummary> {
  const { team, dataset, version } = await versionAccess(user, versionId, "dataset.delete");
  const updated = await db.$transaction(async (tx) => {
    const row = await tx.datasetVersion.update({
      where: { id: versionId },
      data: { archivedAt: input.archived ? (version.archivedAt ?? new Date()) : null },
      select: versionSummarySelect,
    });
    await audit(tx, {
      actorId: user.id,
      action: input.archived ? "dataset.version.archive" : "dataset.version.unarchive",
      targetType: "dataset_version",
      targetId: versionId,
      teamId: team.id,
      ip,
      metadata: { dataset: dataset.name, version: version.version },
    });
    return toVersionSummary(row);
  });
  emitDatasetVersion({ datasetId: dataset.id, versionId, status: updated.status });
  return updated;
}
