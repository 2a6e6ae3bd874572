import "server-only";
import { emitDatasetVersion } from "../realtime/emitter";
import { datasetUploadPartCount, type CompleteUploadInput, type DatasetVersionSummary } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import { AppError } from "../errors";
import { logger } from "../logger";
import type { SessionUser } from "../auth/session";
import { versionAccess } from "./dataset-access";
import { toVersionSummary, versionSummarySelect } from "./dataset-summary";
import { enqueueValidation } from "./enqueue-validation";
import { completeMultipart, listParts, objectSize } from "./object-store";
import { purgeVersions } from "./purge-versions";
import { openUpload } from "./upload-state";

const invalid = (field: string, message: string) => new AppError("VALIDATION_FAILED", "The upload is not complete", { [field]: [message] });

/**
 * Ends an upload: CompleteMultipartUpload from the parts (the caller's ETags, or the store's list), the
 * object's size checked against the declared one (it counted for the quota), then VALIDATING and the
 * validation job. Retrying is safe: an object already there is not completed again, and a version
 * already VALIDATING is only queued again (a no-op when its job exists).
 */
export async function completeUpload(
  user: SessionUser,
  versionId: string,
  input: CompleteUploadInput,
  ip: string,
): Promise<DatasetVersionSummary> {
  const { version, team, dataset } = await versionAccess(user, versionId, "dataset.upload");
  if (version.status === "UPLOADING") {
    const upload = openUpload(version);
    let size = await objectSize(upload.key);
    if (size === null) {
      const parts = input.parts ?? (await listParts(upload.key, upload.uploadId));
      if (parts === null) throw invalid("parts", "This object store cannot list the parts: send each part's ETag");
      const expected = datasetUploadPartCount(upload.size);
      const numbers = new Set(parts.map((p) => p.partNumber));
      const missing = Array.from({ length: expected }, (_, i) => i + 1).filter((n) => !numbers.has(n));
      if (missing.length || numbers.size !== parts.length || parts.some((p) => p.partNumber > expected))
        throw invalid(
          "parts",
          missing.length
            ? `Parts missing: ${missing.slice(0, 20).join(", ")}${missing.length > 20 ? ", …" : ""}`
            : `Exactly parts 1–${expected}, each once`,
        );
      await completeMultipart(upload.key, upload.uploadId, parts);
      size = await objectSize(upload.key);
    }
    if (size !== upload.size) {
      // Another size than declared would slip past the quota. The multipart upload is spent (completed), so the
      // version goes with its archive, as a cancelled upload does: the caller starts a new one.
      await purgeVersions(team.id, [versionId], async (tx) => {
        await audit(tx, {
          actorId: user.id,
          action: "dataset.version.abort",
          targetType: "dataset_version",
          targetId: versionId,
          teamId: team.id,
          ip,
          metadata: { dataset: dataset.name, version: version.version, declared: upload.size, size },
        });
      });
      emitDatasetVersion({ datasetId: dataset.id, versionId, status: "DELETED" });
      throw new AppError("VALIDATION_FAILED", "The upload is not complete", {
        parts: [`The parts hold ${size ?? 0} bytes; the upload declared ${upload.size}. The version was removed: start a new upload`],
      });
    }
    const moved = await db.$transaction(async (tx) => {
      const n = await tx.datasetVersion.updateMany({
        where: { id: versionId, status: "UPLOADING" },
        data: { status: "VALIDATING", uploadId: null },
      });
      if (n.count)
        await audit(tx, {
          actorId: user.id,
          action: "dataset.version.upload",
          targetType: "dataset_version",
          targetId: versionId,
          teamId: team.id,
          ip,
          metadata: { dataset: dataset.name, version: version.version, size },
        });
      return n.count > 0;
    });
    if (!moved) logger.info({ versionId }, "upload completed by a parallel call");
  } else if (version.status !== "VALIDATING") {
    throw new AppError("CONFLICT", `The version is ${version.status}: its upload is over`);
  }
  try {
    await enqueueValidation(versionId);
  } catch (err) {
    logger.error({ err: { message: (err as Error).message }, versionId }, "validation not queued; complete again to queue it");
    throw new AppError(
      "SERVICE_UNAVAILABLE",
      "The archive is stored, but the job queue (Redis) is unavailable: complete the upload again shortly",
    );
  }
  const done = await db.datasetVersion.findUniqueOrThrow({ where: { id: versionId }, select: versionSummarySelect });
  emitDatasetVersion({ datasetId: dataset.id, versionId, status: done.status });
  return toVersionSummary(done);
}
