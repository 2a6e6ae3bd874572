import "server-only";
import { emitDatasetVersion } from "../realtime/emitter";
import {
  DATASET_SIGN_PARTS_MAX,
  DATASET_UPLOAD_MAX_PARTS,
  DATASET_UPLOAD_PART_BYTES,
  datasetUploadKey,
  datasetUploadPartCount,
  type createVersionSchema,
  type CreateVersionAnswer,
} from "@wyolo/contracts";
import type { z } from "zod";
import { newId } from "@wyolo/db";
import { env } from "@/env";
import { db } from "../db";
import { audit } from "../audit";
import { AppError } from "../errors";
import { logger } from "../logger";
import type { SessionUser } from "../auth/session";
import { datasetAccess } from "./dataset-access";
import { toVersionSummary, versionSummarySelect } from "./dataset-summary";
import { enqueueValidation } from "./enqueue-validation";
import { abortMultipart, ensureUploadCors, startMultipart } from "./object-store";
import { lockTeamDatasets } from "./purge-versions";
import { signUploadParts, uploadState } from "./upload-state";
import { teamDatasetBytes } from "./usage";

type Input = z.infer<typeof createVersionSchema>;

const gib = (n: number) => `${(n / 1024 ** 3).toFixed(n < 10 * 1024 ** 3 ? 2 : 0)} GiB`;

function checkUploadSize(size: number): void {
  if (size > env.DATASET_MAX_UPLOAD_BYTES)
    throw new AppError("PAYLOAD_TOO_LARGE", "The archive is larger than this platform takes", {
      "file.size": [`At most ${gib(env.DATASET_MAX_UPLOAD_BYTES)} per upload (DATASET_MAX_UPLOAD_BYTES)`],
    });
  if (datasetUploadPartCount(size) > DATASET_UPLOAD_MAX_PARTS)
    throw new AppError("PAYLOAD_TOO_LARGE", "The archive is too large", {
      "file.size": [`At most ${DATASET_UPLOAD_MAX_PARTS} parts of ${DATASET_UPLOAD_PART_BYTES / 1024 ** 2} MiB`],
    });
}

function overQuota(used: number, size: number): AppError {
  return new AppError("VALIDATION_FAILED", "The team's datasets would be over their quota", {
    "file.size": [
      `The team's datasets hold ${gib(used)} of ${gib(env.DATASET_TEAM_QUOTA_BYTES)} (DATASET_TEAM_QUOTA_BYTES); this archive needs ${gib(size)}`,
    ],
  });
}

/**
 * A new version: with an archive, an UPLOADING row and an S3 multipart upload the caller fills through
 * presigned part URLs; made from a parent without one, a VALIDATING row queued for validation at once.
 * Sizes are checked against DATASET_MAX_UPLOAD_BYTES and the team's quota under the team's lock, so
 * parallel uploads cannot both slip under it.
 */
export async function createVersion(user: SessionUser, datasetId: string, input: Input, ip: string): Promise<CreateVersionAnswer> {
  const { team, dataset } = await datasetAccess(user, datasetId, "dataset.upload");
  if (input.file) checkUploadSize(input.file.size);
  const parent =
    input.parent === undefined
      ? null
      : await db.datasetVersion.findUnique({
          where: { datasetId_version: { datasetId, version: input.parent } },
          select: { id: true, status: true },
        });
  if (input.parent !== undefined) {
    if (!parent)
      throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { parent: [`${dataset.name} has no version ${input.parent}`] });
    if (parent.status !== "READY")
      throw new AppError("VALIDATION_FAILED", "Some fields are invalid", {
        parent: [`v${input.parent} is ${parent.status}: only a READY version can be a parent`],
      });
  }
  if (input.file) {
    // Checked again under the lock below; this one spares the object store a doomed upload.
    const used = await teamDatasetBytes(team.id);
    if (used + input.file.size > env.DATASET_TEAM_QUOTA_BYTES) throw overQuota(used, input.file.size);
  }

  const id = newId();
  let upload: { key: string; uploadId: string } | null = null;
  if (input.file) {
    await ensureUploadCors();
    const key = datasetUploadKey(team.id, id, input.file.name);
    upload = { key, uploadId: await startMultipart(key) };
  }
  let row;
  try {
    row = await db.$transaction(async (tx) => {
      await lockTeamDatasets(tx, team.id);
      if (input.file) {
        const used = await teamDatasetBytes(team.id, tx);
        if (used + input.file.size > env.DATASET_TEAM_QUOTA_BYTES) throw overQuota(used, input.file.size);
      }
      const last = await tx.datasetVersion.aggregate({ where: { datasetId }, _max: { version: true } });
      const version = (last._max.version ?? 0) + 1;
      const created = await tx.datasetVersion.create({
        data: {
          id,
          datasetId,
          version,
          status: input.file ? "UPLOADING" : "VALIDATING",
          parentId: parent?.id ?? null,
          // A derived version always records its removed paths (maybe none): the worker tells it from a fresh upload by that.
          removedPaths: parent ? input.removedPaths : input.removedPaths.length ? input.removedPaths : undefined,
          uploadKey: upload?.key ?? null,
          uploadId: upload?.uploadId ?? null,
          uploadName: input.file?.name ?? null,
          uploadSize: input.file ? BigInt(input.file.size) : null,
          createdById: user.id,
        },
        select: { ...versionSummarySelect, uploadKey: true, uploadId: true, uploadName: true, uploadSize: true },
      });
      await tx.dataset.update({ where: { id: datasetId }, data: { updatedAt: new Date() } });
      await audit(tx, {
        actorId: user.id,
        action: "dataset.version.create",
        targetType: "dataset_version",
        targetId: id,
        teamId: team.id,
        ip,
        metadata: {
          dataset: dataset.name,
          version,
          parent: input.parent ?? null,
          file: input.file?.name ?? null,
          size: input.file?.size ?? null,
          removed: input.removedPaths.length,
        },
      });
      return created;
    });
  } catch (err) {
    if (upload) await abortMultipart(upload.key, upload.uploadId);
    throw err;
  }

  if (!upload) {
    try {
      await enqueueValidation(id);
    } catch (err) {
      logger.error({ err: { message: (err as Error).message }, versionId: id }, "validation not queued; version removed");
      await db.datasetVersion.deleteMany({ where: { id } }).catch(() => {});
      throw new AppError("SERVICE_UNAVAILABLE", "The job queue (Redis) is unavailable, so the version was not created. Try again shortly.");
    }
    emitDatasetVersion({ datasetId: dataset.id, versionId: id, status: "VALIDATING" });
    return { version: toVersionSummary(row), upload: null };
  }
  emitDatasetVersion({ datasetId: dataset.id, versionId: id, status: "UPLOADING" });
  const state = await uploadState({ ...row, status: "UPLOADING" }, false);
  const first = Array.from({ length: Math.min(state.partCount, DATASET_SIGN_PARTS_MAX) }, (_, i) => i + 1);
  return { version: toVersionSummary(row), upload: { ...state, parts: await signUploadParts({ ...row, status: "UPLOADING" }, first) } };
}
