import "server-only";
import { datasetBlobKey, datasetVersionLabel } from "@wyolo/contracts";
import type { Db } from "@wyolo/db";
import { db } from "../db";
import { AppError } from "../errors";
import { logger } from "../logger";
import { abortMultipart, deleteObjects } from "./object-store";

type Tx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/** Serialises a team's dataset writes that count or free storage (quota checks, deletes). */
export const lockTeamDatasets = (tx: Tx, teamId: string) => tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`datasets:${teamId}`}))`;

/** A version a job used stays (archivable, not deletable): the job records what it trained on. */
export async function refuseReferenced(tx: Tx, versionIds: string[]): Promise<void> {
  const used = await tx.datasetVersion.findMany({
    where: { id: { in: versionIds }, jobs: { some: {} } },
    select: { version: true, dataset: { select: { name: true } }, _count: { select: { jobs: true } } },
    orderBy: { version: "asc" },
  });
  if (used.length === 0) return;
  const names = used.map(
    (v) => `${datasetVersionLabel(v.dataset.name, v.version)} (${v._count.jobs} job${v._count.jobs === 1 ? "" : "s"})`,
  );
  throw new AppError("CONFLICT", `Jobs trained from ${names.join(", ")}: archive ${used.length === 1 ? "it" : "them"} instead of deleting`);
}

/**
 * A version another one is being made from stays until that one is READY or gone: the child's
 * worker reads the parent's items, and deleting them would leave it without the parent's files.
 */
export async function refuseBuildingChildren(tx: Tx, versionIds: string[]): Promise<void> {
  const building = await tx.datasetVersion.findMany({
    where: { parentId: { in: versionIds }, id: { notIn: versionIds }, status: { in: ["UPLOADING", "VALIDATING"] } },
    select: { version: true, dataset: { select: { name: true } } },
    orderBy: { version: "asc" },
  });
  if (building.length === 0) return;
  const names = building.map((v) => datasetVersionLabel(v.dataset.name, v.version));
  throw new AppError(
    "CONFLICT",
    `${names.join(", ")} ${building.length === 1 ? "is" : "are"} being made from it; wait or cancel ${building.length === 1 ? "it" : "them"}`,
  );
}

type Leftovers = { uploads: { key: string; uploadId: string | null }[]; keys: string[] };

/**
 * Deletes versions (their items go with them) inside the caller's transaction, after the team's
 * lock, and says which objects are no longer needed: their archives in flight, manifests no other
 * version shares, and blobs no other version of the team holds. Blobs are kept while any of the
 * team's versions is VALIDATING, since its worker may be relying on one it found already stored.
 */
export async function deleteVersionRows(tx: Tx, teamId: string, versionIds: string[]): Promise<Leftovers> {
  await lockTeamDatasets(tx, teamId);
  await refuseReferenced(tx, versionIds);
  await refuseBuildingChildren(tx, versionIds);
  const versions = await tx.datasetVersion.findMany({
    where: { id: { in: versionIds } },
    select: { id: true, uploadKey: true, uploadId: true, manifestHash: true, manifestKey: true },
  });
  const validating = await tx.datasetVersion.count({ where: { dataset: { teamId }, status: "VALIDATING", id: { notIn: versionIds } } });
  const orphanBlobs =
    validating > 0
      ? []
      : await tx.$queryRaw<{ sha256: string }[]>`
          SELECT DISTINCT i."sha256" FROM "DatasetItem" i WHERE i."versionId" = ANY(${versionIds})
          AND NOT EXISTS (
            SELECT 1 FROM "DatasetItem" o JOIN "DatasetVersion" v ON v."id" = o."versionId" JOIN "Dataset" d ON d."id" = v."datasetId"
            WHERE d."teamId" = ${teamId} AND o."sha256" = i."sha256" AND NOT (o."versionId" = ANY(${versionIds})))`;
  const hashes = versions.map((v) => v.manifestHash).filter((h): h is string => h !== null);
  const sharedManifests = new Set(
    (
      await tx.datasetVersion.findMany({
        where: { manifestHash: { in: hashes }, id: { notIn: versionIds }, dataset: { teamId } },
        select: { manifestHash: true },
      })
    ).map((v) => v.manifestHash),
  );
  await tx.datasetVersion.deleteMany({ where: { id: { in: versionIds } } });
  return {
    uploads: versions.filter((v) => v.uploadKey).map((v) => ({ key: v.uploadKey!, uploadId: v.uploadId })),
    keys: [
      ...orphanBlobs.map((b) => datasetBlobKey(teamId, b.sha256)),
      ...versions.filter((v) => v.manifestKey && !sharedManifests.has(v.manifestHash)).map((v) => v.manifestKey!),
    ],
  };
}

/** After the rows are gone: aborts uploads in flight and deletes the objects (best effort, logged). */
export async function deleteLeftovers({ uploads, keys }: Leftovers): Promise<void> {
  for (const u of uploads) if (u.uploadId) await abortMultipart(u.key, u.uploadId);
  const deleted = await deleteObjects([...uploads.map((u) => u.key), ...keys]);
  logger.info({ objects: deleted, uploads: uploads.length }, "dataset objects deleted");
}

/** Deletes versions and their objects; a version a job references, or one a version is being made from, is refused (409). */
export async function purgeVersions(teamId: string, versionIds: string[], within?: (tx: Tx) => Promise<void>): Promise<void> {
  const leftovers = await db.$transaction(async (tx) => {
    const out = await deleteVersionRows(tx, teamId, versionIds);
    await within?.(tx);
    return out;
  });
  await deleteLeftovers(leftovers);
}
