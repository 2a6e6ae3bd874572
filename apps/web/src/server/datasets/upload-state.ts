import "server-only";
import {
  DATASET_SIGN_PARTS_MAX,
  DATASET_UPLOAD_PART_BYTES,
  datasetUploadPartCount,
  type DatasetVersionStatus,
  type UploadState,
} from "@wyolo/contracts";
import { AppError } from "../errors";
import { listParts, signParts, urlsExpireAt } from "./object-store";

export type UploadRow = {
  id: string;
  uploadKey: string | null;
  uploadId: string | null;
  uploadName: string | null;
  uploadSize: bigint | null;
};

/** The upload of a version still UPLOADING; any other status has none (409). */
export function openUpload(row: UploadRow & { status: string }) {
  if (row.status !== "UPLOADING" || !row.uploadKey || !row.uploadId)
    throw new AppError(
      "CONFLICT",
      row.status === "UPLOADING" ? "This version has no upload" : `The upload is over: the version is ${row.status}`,
    );
  return { key: row.uploadKey, uploadId: row.uploadId, name: row.uploadName ?? "", size: Number(row.uploadSize ?? 0) };
}

/** Where an upload stands; one that is over (the version past UPLOADING) answers done, without asking the store. */
export async function uploadState(row: UploadRow & { status: DatasetVersionStatus }, withParts: boolean): Promise<UploadState> {
  if (!row.uploadKey) throw new AppError("CONFLICT", "This version was made without an upload");
  const done = row.status !== "UPLOADING";
  const size = Number(row.uploadSize ?? 0);
  const stored = done ? null : withParts ? await listParts(row.uploadKey, openUpload(row).uploadId) : [];
  return {
    versionId: row.id,
    status: row.status,
    done,
    fileName: row.uploadName ?? "",
    size,
    partSize: DATASET_UPLOAD_PART_BYTES,
    partCount: datasetUploadPartCount(size),
    uploaded: stored,
    urlsExpireAt: urlsExpireAt(),
  };
}

/** Presigned URLs for some parts of an open upload (numbers past the last part are refused). */
export async function signUploadParts(row: UploadRow & { status: string }, partNumbers: number[]) {
  const upload = openUpload(row);
  const count = datasetUploadPartCount(upload.size);
  const beyond = partNumbers.filter((n) => n > count);
  if (beyond.length)
    throw new AppError("VALIDATION_FAILED", "Some fields are invalid", {
      partNumbers: [`The upload has ${count} part${count === 1 ? "" : "s"}; no part ${beyond[0]}`],
    });
  return signParts(upload.key, upload.uploadId, upload.size, [...new Set(partNumbers)].slice(0, DATASET_SIGN_PARTS_MAX));
}
