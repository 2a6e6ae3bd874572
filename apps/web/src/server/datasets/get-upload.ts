import "server-only";
import type { SignedPart, UploadState } from "@wyolo/contracts";
import type { SessionUser } from "../auth/session";
import { versionAccess } from "./dataset-access";
import { signUploadParts, uploadState } from "./upload-state";

/** Where an upload stands (for a resume: the parts the store has, where it can list them). */
export async function getUpload(user: SessionUser, versionId: string): Promise<UploadState> {
  const { version } = await versionAccess(user, versionId, "dataset.upload");
  return uploadState(version, true);
}

/** Fresh presigned URLs for some parts (the first ones came with the version; these may have run out). */
export async function signUpload(user: SessionUser, versionId: string, partNumbers: number[]): Promise<SignedPart[]> {
  const { version } = await versionAccess(user, versionId, "dataset.upload");
  return signUploadParts(version, partNumbers);
}
