import "server-only";
import type { Permission } from "@wyolo/contracts";
import { db } from "../db";
import { teamAccess } from "../access";
import { AppError, notFound } from "../errors";
import type { SessionUser } from "../auth/session";

/** A dataset's team access; a dataset in a team the caller cannot see answers 404, like the team. */
export async function datasetAccess(user: SessionUser, datasetId: string, permission: Permission) {
  const dataset = await db.dataset.findUnique({ where: { id: datasetId }, select: { id: true, teamId: true, name: true } });
  if (!dataset) throw notFound("Dataset not found");
  try {
    return { dataset, ...(await teamAccess(user, { id: dataset.teamId }, permission)) };
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND") throw notFound("Dataset not found");
    throw err;
  }
}

/** A version's team access, by version id; one in a team the caller cannot see answers 404. */
export async function versionAccess(user: SessionUser, versionId: string, permission: Permission) {
  const version = await db.datasetVersion.findUnique({
    where: { id: versionId },
    select: {
      id: true,
      version: true,
      status: true,
      datasetId: true,
      uploadKey: true,
      uploadId: true,
      uploadName: true,
      uploadSize: true,
      archivedAt: true,
      dataset: { select: { id: true, teamId: true, name: true } },
    },
  });
  if (!version) throw notFound("Dataset version not found");
  try {
    return { version, dataset: version.dataset, ...(await teamAccess(user, { id: version.dataset.teamId }, permission)) };
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND") throw notFound("Dataset version not found");
    throw err;
  }
}
