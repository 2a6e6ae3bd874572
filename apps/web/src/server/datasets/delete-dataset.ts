import "server-only";
import { db } from "../db";
import { audit } from "../audit";
import type { SessionUser } from "../auth/session";
import { datasetAccess } from "./dataset-access";
import { purgeVersions } from "./purge-versions";

/** A dataset goes with all its versions and their objects; refused (409) while a job references any of them. */
export async function deleteDataset(user: SessionUser, datasetId: string, ip: string): Promise<void> {
  const { team, dataset } = await datasetAccess(user, datasetId, "dataset.delete");
  const versions = await db.datasetVersion.findMany({ where: { datasetId }, select: { id: true } });
  await purgeVersions(
    team.id,
    versions.map((v) => v.id),
    async (tx) => {
      await tx.dataset.delete({ where: { id: datasetId } });
      await audit(tx, {
        actorId: user.id,
        action: "dataset.delete",
        targetType: "dataset",
        targetId: datasetId,
        teamId: team.id,
        ip,
        metadata: { name: dataset.name, versions: versions.length },
      });
    },
  );
}
