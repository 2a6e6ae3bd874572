import "server-only";
import { emitDatasetVersion } from "../realtime/emitter";
import { audit } from "../audit";
import { AppError } from "../errors";
import type { SessionUser } from "../auth/session";
import { versionAccess } from "./dataset-access";
import { purgeVersions } from "./purge-versions";

/** Cancels an upload: the multipart upload is aborted and the UPLOADING version removed. */
export async function abortUpload(user: SessionUser, versionId: string, ip: string): Promise<void> {
  const { version, team, dataset } = await versionAccess(user, versionId, "dataset.upload");
  if (version.status !== "UPLOADING") throw new AppError("CONFLICT", `The version is ${version.status}: its upload is over`);
  await purgeVersions(team.id, [versionId], async (tx) => {
    await audit(tx, {
      actorId: user.id,
      action: "dataset.version.abort",
      targetType: "dataset_version",
      targetId: versionId,
      teamId: team.id,
      ip,
      metadata: { dataset: dataset.name, version: version.version },
    });
  });
  emitDatasetVersion({ datasetId: dataset.id, versionId, status: "DELETED" });
}
