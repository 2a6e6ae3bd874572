import "server-only";
import { emitDatasetVersion } from "../realtime/emitter";
import { AppError } from "../errors";
import { audit } from "../audit";
import type { SessionUser } from "../auth/session";
import { versionAccess } from "./dataset-access";
import { purgeVersions } from "./purge-versions";

/** Deletes a version no job references (409 otherwise: archive it), with the files only it held. */
export async function deleteVersion(user: SessionUser, versionId: string, ip: string): Promise<void> {
  const { team, dataset, version } = await versionAccess(user, versionId, "dataset.delete");
  if (version.status === "VALIDATING") throw new AppError("CONFLICT", "The version is being validated; delete it once that is over");
  await purgeVersions(team.id, [versionId], async (tx) => {
    await audit(tx, {
      actorId: user.id,
      action: "dataset.version.delete",
      targetType: "dataset_version",
      targetId: versionId,
      teamId: team.id,
      ip,
      metadata: { dataset: dataset.name, version: version.version, status: version.status },
    });
  });
  emitDatasetVersion({ datasetId: dataset.id, versionId, status: "DELETED" });
}
