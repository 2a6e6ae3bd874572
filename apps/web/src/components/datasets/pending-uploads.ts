import type { UploadedPart } from "./multipart-upload";

/**
 * Uploads this browser started and has not finished, remembered in localStorage so that a reload
 * (or a closed tab) can resume them: the object store keeps the parts sent, the page sends the rest
 * once the user picks the same file again (a page cannot reopen a file by itself).
 */
export type PendingUpload = {
  datasetId: string;
  versionId: string;
  version: number;
  fileName: string;
  size: number;
  lastModified: number;
  /** A folder packed in the browser: the user picks the folder again (it packs to the same bytes). */
  folder: boolean;
  startedAt: string;
  /** Parts stored so far with their ETags: where the store cannot list parts (s3rver), the resume relies on these. */
  parts: UploadedPart[];
};

type KeyValueStore = Pick<Storage, "getItem" | "setItem">;
const KEY = "wyolo.dataset-uploads";

function readAll(storage: KeyValueStore): PendingUpload[] {
  try {
    const value: unknown = JSON.parse(storage.getItem(KEY) ?? "[]");
    if (!Array.isArray(value)) return [];
    return (value as PendingUpload[])
      .filter((p) => p && typeof p.versionId === "string")
      .map((p) => ({ ...p, parts: Array.isArray(p.parts) ? p.parts : [] }));
  } catch {
    return [];
  }
}

function writeAll(storage: KeyValueStore, uploads: PendingUpload[]) {
  try {
    storage.setItem(KEY, JSON.stringify(uploads));
  } catch {
    // Storage full or off (private mode): the upload still runs, it just cannot resume after a reload.
  }
}

export const pendingUploads = (storage: KeyValueStore, datasetId: string) => readAll(storage).filter((p) => p.datasetId === datasetId);

export function rememberUpload(storage: KeyValueStore, upload: PendingUpload) {
  writeAll(storage, [...readAll(storage).filter((p) => p.versionId !== upload.versionId), upload]);
}

/** One more part stored (kept in part order). */
export function recordPart(storage: KeyValueStore, versionId: string, part: UploadedPart) {
  writeAll(
    storage,
    readAll(storage).map((p) =>
      p.versionId === versionId
        ? { ...p, parts: [...p.parts.filter((x) => x.partNumber !== part.partNumber), part].sort((a, b) => a.partNumber - b.partNumber) }
        : p,
    ),
  );
}

export function forgetUpload(storage: KeyValueStore, versionId: string) {
  writeAll(
    storage,
    readAll(storage).filter((p) => p.versionId !== versionId),
  );
}

/** The same file as the interrupted upload: name, size and modification time. */
export const sameFile = (p: PendingUpload, file: File) =>
  file.name === p.fileName && file.size === p.size && file.lastModified === p.lastModified;
