"use client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { CreateVersionAnswer, CreateVersionInput, DatasetVersionSummary, SignedPart, UploadState } from "@wyolo/contracts";
import { api, ApiRequestError } from "@/lib/api";
import { packFolder, type FolderFile } from "./pack-folder";
import { uploadMissingParts, type UploadedPart } from "./multipart-upload";
import { forgetUpload, pendingUploads, recordPart, rememberUpload, sameFile, type PendingUpload } from "./pending-uploads";

export type UploadProgress =
  | { phase: "idle" }
  | { phase: "packing"; fileName: string; done: number; total: number }
  | { phase: "uploading"; fileName: string; version: number; sent: number; total: number; bytesPerSecond: number | null }
  | { phase: "completing"; fileName: string; version: number }
  | { phase: "failed"; fileName: string; message: string; resumable: boolean };

export type UploadRequest = {
  /** An archive, or a folder's files (packed to a zip here first). */
  file?: File;
  folder?: FolderFile[];
  parent?: number;
  removedPaths?: string[];
};

const storage = () => (typeof window === "undefined" ? null : window.localStorage);

/** Bytes per second over the last ~5 s of progress. */
function rateMeter() {
  const samples: { t: number; sent: number }[] = [];
  return (sent: number) => {
    const t = performance.now();
    samples.push({ t, sent });
    while (samples.length > 2 && t - samples[0]!.t > 5000) samples.shift();
    const first = samples[0]!;
    return t - first.t > 500 ? ((sent - first.sent) * 1000) / (t - first.t) : null;
  };
}

/**
 * A dataset version's upload from this page: pack a folder, create the version, send the parts
 * straight to the object store (resumable after a reload), complete. Also resumes and cancels.
 */
export function useDatasetUpload(datasetId: string | undefined, onChanged: () => void) {
  const [progress, setProgress] = useState<UploadProgress>({ phase: "idle" });
  const abortRef = useRef<AbortController | null>(null);
  const versionRef = useRef<string | null>(null);
  const changed = useRef(onChanged);
  useEffect(() => {
    changed.current = onChanged;
  });
  // A reload or a closed tab mid-upload: the browser asks first (the upload resumes later anyway).
  useEffect(() => {
    const busy = progress.phase === "packing" || progress.phase === "uploading";
    if (!busy) return;
    const warn = (e: BeforeUnloadEvent) => e.preventDefault();
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [progress.phase]);

  const sendParts = useCallback(
    async (
      file: File,
      versionId: string,
      version: number,
      upload: UploadState & { parts?: SignedPart[] },
      known: UploadedPart[],
      signal: AbortSignal,
    ) => {
      const rate = rateMeter();
      const s = storage();
      const parts = await uploadMissingParts({
        file,
        partSize: upload.partSize,
        partCount: upload.partCount,
        // The store's own list where it has one (S3, MinIO); else what this browser kept (s3rver).
        uploaded: upload.uploaded ?? known,
        urls: upload.parts,
        sign: (partNumbers) =>
          api<{ parts: SignedPart[] }>(`/api/v1/dataset-versions/${versionId}/upload/parts`, { body: { partNumbers } }).then(
            (r) => r.parts,
          ),
        signal,
        onPart: (part) => s && recordPart(s, versionId, part),
        onProgress: (sent, total) =>
          setProgress({ phase: "uploading", fileName: file.name, version, sent, total, bytesPerSecond: rate(sent) }),
      });
      setProgress({ phase: "completing", fileName: file.name, version });
      await api<{ version: DatasetVersionSummary }>(`/api/v1/dataset-versions/${versionId}/upload/complete`, {
        body: { parts: parts.map(({ partNumber, etag }) => ({ partNumber, etag })) },
      });
      if (s) forgetUpload(s, versionId);
    },
    [],
  );

  const fail = (fileName: string, err: unknown, resumable: boolean) => {
    if (err instanceof DOMException && err.name === "AbortError") return setProgress({ phase: "idle" });
    const message =
      err instanceof ApiRequestError
        ? [err.message, ...Object.values(err.fields).flat()].filter((m, i, all) => all.indexOf(m) === i).join(" · ")
        : err instanceof Error
          ? err.message
          : String(err);
    setProgress({ phase: "failed", fileName, message, resumable });
  };

  const start = useCallback(
    async (req: UploadRequest): Promise<DatasetVersionSummary | null> => {
      if (!datasetId) return null;
      const abort = new AbortController();
      abortRef.current = abort;
      let file = req.file;
      const displayName = file?.name ?? req.folder?.[0]?.path.split("/")[0] ?? "changes";
      let created: CreateVersionAnswer | null = null;
      try {
        if (!file && req.folder) {
          const folderName = displayName;
          setProgress({ phase: "packing", fileName: folderName, done: 0, total: 1 });
          file = await packFolder(
            req.folder,
            (p) => setProgress({ phase: "packing", fileName: folderName, done: p.bytes, total: p.totalBytes }),
            abort.signal,
          );
        }
        const body: CreateVersionInput = {
          ...(file ? { file: { name: file.name, size: file.size } } : {}),
          ...(req.parent !== undefined ? { parent: req.parent, removedPaths: req.removedPaths ?? [] } : {}),
        };
        created = await api<CreateVersionAnswer>(`/api/v1/datasets/${datasetId}/versions`, { body });
        changed.current();
        const { version, upload } = created;
        if (!file || !upload) {
          setProgress({ phase: "idle" });
          return version;
        }
        versionRef.current = version.id;
        const s = storage();
        if (s)
          rememberUpload(s, {
            datasetId,
            versionId: version.id,
            version: version.version,
            fileName: file.name,
            size: file.size,
            lastModified: file.lastModified,
            folder: !req.file,
            startedAt: new Date().toISOString(),
            parts: [],
          });
        await sendParts(file, version.id, version.version, upload, [], abort.signal);
        setProgress({ phase: "idle" });
        changed.current();
        return version;
      } catch (err) {
        fail(file?.name ?? displayName, err, created?.upload != null);
        changed.current();
        return null;
      } finally {
        versionRef.current = null;
        abortRef.current = null;
      }
    },
    [datasetId, sendParts],
  );

  /** Sends what the object store lacks of an interrupted upload, from the same file picked again. */
  const resume = useCallback(
    async (pending: PendingUpload, req: { file?: File; folder?: FolderFile[] }) => {
      const abort = new AbortController();
      abortRef.current = abort;
      versionRef.current = pending.versionId;
      try {
        let file = req.file;
        if (!file && req.folder) {
          setProgress({ phase: "packing", fileName: pending.fileName, done: 0, total: 1 });
          file = await packFolder(
            req.folder,
            (p) => setProgress({ phase: "packing", fileName: pending.fileName, done: p.bytes, total: p.totalBytes }),
            abort.signal,
          );
        }
        if (!file) return;
        if (!sameFile(pending, file))
          throw new Error(
            `That is not the ${pending.folder ? "folder" : "file"} of this upload: it was ${pending.fileName}, ${pending.size.toLocaleString()} bytes, ` +
              `modified ${new Date(pending.lastModified).toLocaleString()}; this is ${file.name}, ${file.size.toLocaleString()} bytes, ` +
              `modified ${new Date(file.lastModified).toLocaleString()}. Pick the same one, unchanged, or discard the upload.`,
          );
        const { upload } = await api<{ upload: UploadState }>(`/api/v1/dataset-versions/${pending.versionId}/upload`);
        const s = storage();
        const kept = (s && pendingUploads(s, pending.datasetId).find((p) => p.versionId === pending.versionId)?.parts) ?? pending.parts;
        await sendParts(file, pending.versionId, pending.version, upload, kept, abort.signal);
        setProgress({ phase: "idle" });
      } catch (err) {
        fail(req.file?.name ?? pending.fileName, err, true);
      } finally {
        versionRef.current = null;
        abortRef.current = null;
        changed.current();
      }
    },
    [sendParts],
  );

  /** Stops the upload in flight (or a remembered one) and removes its version. */
  const cancel = useCallback(async (versionId?: string) => {
    abortRef.current?.abort();
    const id = versionId ?? versionRef.current;
    setProgress({ phase: "idle" });
    if (!id) return;
    const s = storage();
    if (s) forgetUpload(s, id);
    try {
      await api(`/api/v1/dataset-versions/${id}/upload`, { method: "DELETE" });
    } catch (err) {
      // Already gone (completed or removed elsewhere): nothing left to cancel.
      if (!(err instanceof ApiRequestError && (err.status === 404 || err.status === 409))) throw err;
    } finally {
      changed.current();
    }
  }, []);

  const dismiss = useCallback(() => setProgress({ phase: "idle" }), []);

  return { progress, start, resume, cancel, dismiss, busy: progress.phase !== "idle" && progress.phase !== "failed" };
}
