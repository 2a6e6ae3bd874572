"use client";
import { clsx } from "clsx";
import { useId, useRef, useState, useSyncExternalStore, type DragEvent } from "react";
import { toast } from "sonner";
import { isDatasetArchiveName, type DatasetVersionSummary } from "@wyolo/contracts";
import { Button, Card, Select } from "@/components/ui";
import { formatBytes, formatDuration } from "@/lib/format";
import { filesOfDroppedEntry, filesOfFolderInput, type FolderFile } from "./pack-folder";
import { pendingUploads } from "./pending-uploads";
import type { UploadProgress, UploadRequest, useDatasetUpload } from "./use-dataset-upload";

type Upload = ReturnType<typeof useDatasetUpload>;
type Picked = { file: File } | { folder: FolderFile[] };

/** What was dropped: one archive, or one folder (its files). */
async function readDrop(e: DragEvent): Promise<Picked | string> {
  const items = Array.from(e.dataTransfer.items).filter((i) => i.kind === "file");
  const entries = items.map((i) => i.webkitGetAsEntry?.()).filter((x): x is FileSystemEntry => !!x);
  if (entries.length === 1 && entries[0]!.isDirectory) return { folder: await filesOfDroppedEntry(entries[0]!) };
  const files = Array.from(e.dataTransfer.files);
  if (files.length === 1 && isDatasetArchiveName(files[0]!.name)) return { file: files[0]! };
  return "Drop one .zip, .tar or .tar.gz archive, or one folder";
}

/** Two hidden inputs (an archive, a folder) behind buttons; the archive input is labelled for keyboard and test use. */
function PickButtons({ onPick, disabled, label }: { onPick: (p: Picked) => void; disabled?: boolean; label: string }) {
  const fileRef = useRef<HTMLInputElement>(null);
  const folderRef = useRef<HTMLInputElement>(null);
  const id = useId();
  return (
    <div className="flex flex-wrap justify-center gap-2">
      <label htmlFor={`${id}-file`} className="sr-only">
        {label}
      </label>
      <input
        ref={fileRef}
        id={`${id}-file`}
        type="file"
        accept=".zip,.tar,.tar.gz,.tgz,application/zip,application/x-tar,application/gzip"
        className="sr-only"
        tabIndex={-1}
        disabled={disabled}
        onChange={(e) => {
          const file = e.target.files?.[0];
          e.target.value = "";
          if (!file) return;
          if (!isDatasetArchiveName(file.name)) return void toast.error("Choose a .zip, .tar or .tar.gz archive");
          onPick({ file });
        }}
      />
      <input
        ref={(el) => {
          folderRef.current = el;
          // Not in React's types: lets the input pick a whole folder.
          el?.setAttribute("webkitdirectory", "");
        }}
        type="file"
        className="sr-only"
        tabIndex={-1}
        aria-hidden
        disabled={disabled}
        onChange={(e) => {
          const list = e.target.files;
          const folder = list?.length ? filesOfFolderInput(list) : [];
          e.target.value = "";
          if (folder.length) onPick({ folder });
        }}
      />
      <Button type="button" variant="secondary" disabled={disabled} onClick={() => fileRef.current?.click()}>
        Choose archive…
      </Button>
      <Button type="button" variant="secondary" disabled={disabled} onClick={() => folderRef.current?.click()}>
        Choose folder…
      </Button>
    </div>
  );
}

function DropZone({ onPick, disabled, children }: { onPick: (p: Picked) => void; disabled?: boolean; children: React.ReactNode }) {
  const [over, setOver] = useState(false);
  return (
    <div
      data-testid="dataset-drop-zone"
      onDragOver={(e) => {
        if (disabled) return;
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={async (e) => {
        e.preventDefault();
        setOver(false);
        if (disabled) return;
        const picked = await readDrop(e);
        if (typeof picked === "string") toast.error(picked);
        else onPick(picked);
      }}
      className={clsx(
        "rounded-lg border-2 border-dashed p-6 text-center transition-colors",
        over ? "border-indigo-500 bg-indigo-50 dark:bg-indigo-950/30" : "border-zinc-300 dark:border-zinc-700",
        disabled && "opacity-60",
      )}
    >
      {children}
    </div>
  );
}

export function ProgressLine({ progress, onCancel, onDismiss }: { progress: UploadProgress; onCancel: () => void; onDismiss: () => void }) {
  if (progress.phase === "idle") return null;
  if (progress.phase === "failed")
    return (
      <div
        role="alert"
        className="mt-4 rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-800 dark:bg-red-950/40 dark:text-red-300"
      >
        <p className="font-medium">
          The upload of {progress.fileName} failed: {progress.message}
        </p>
        {progress.resumable && <p className="mt-1">The parts already sent are kept: pick the same file again below to resume.</p>}
        <Button variant="ghost" className="mt-2" onClick={onDismiss}>
          Dismiss
        </Button>
      </div>
    );
  const [done, total, label] =
    progress.phase === "packing"
      ? [progress.done, progress.total, `Packing ${progress.fileName} into a zip`]
      : progress.phase === "uploading"
        ? [progress.sent, progress.total, `Uploading ${progress.fileName} as v${progress.version}`]
        : [1, 1, `Finishing the upload of v${progress.version}`];
  const pct = total ? Math.floor((done / total) * 100) : 0;
  const eta =
    progress.phase === "uploading" && progress.bytesPerSecond
      ? ` · ${formatBytes(progress.bytesPerSecond)}/s · ${formatDuration((progress.total - progress.sent) / progress.bytesPerSecond)} left`
      : "";
  return (
    <div className="mt-4 space-y-2">
      <div className="flex flex-wrap items-baseline justify-between gap-2 text-sm">
        <span className="min-w-0 font-medium break-all">{label}</span>
        <span className="text-zinc-500 tabular-nums" data-testid="upload-percent">
          {pct}%
        </span>
      </div>
      <div
        role="progressbar"
        aria-label="Upload progress"
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        className="h-2 w-full overflow-hidden rounded bg-zinc-200 dark:bg-zinc-800"
      >
        <div className="h-full rounded bg-indigo-500 transition-[width] duration-300" style={{ width: `${pct}%` }} />
      </div>
      <div className="flex flex-wrap items-center justify-between gap-2 text-xs text-zinc-500">
        <span>{progress.phase === "uploading" ? `${formatBytes(progress.sent)} of ${formatBytes(progress.total)}${eta}` : "\u00a0"}</span>
        {progress.phase !== "completing" && (
          <Button variant="secondary" onClick={onCancel}>
            Cancel upload
          </Button>
        )}
      </div>
    </div>
  );
}

const noSubscription = () => () => {};

/**
 * Uploads of this dataset that this browser started and did not finish (a reload, a closed tab,
 * a lost connection): the object store keeps their parts; picking the same file sends the rest.
 */
function PendingResumes({ datasetId, versions, upload }: { datasetId: string; versions: DatasetVersionSummary[]; upload: Upload }) {
  // localStorage exists only in the browser: nothing while the server renders, then read on each render.
  const inBrowser = useSyncExternalStore(
    noSubscription,
    () => true,
    () => false,
  );
  const uploading = new Set(versions.filter((v) => v.status === "UPLOADING").map((v) => v.id));
  const pending = inBrowser ? pendingUploads(window.localStorage, datasetId).filter((p) => uploading.has(p.versionId)) : [];
  if (!pending.length || upload.busy) return null;
  return (
    <ul className="mt-4 space-y-3" aria-label="Interrupted uploads">
      {pending.map((p) => (
        <li
          key={p.versionId}
          className="rounded-md border border-amber-300 bg-amber-50 p-3 text-sm dark:border-amber-800 dark:bg-amber-950/30"
        >
          <p>
            The upload of <span className="font-mono break-all">{p.fileName}</span> ({formatBytes(p.size)}) as v{p.version} was interrupted.
            Pick the same {p.folder ? "folder" : "archive"} to send the rest.
          </p>
          <div className="mt-2 flex flex-wrap items-center gap-2">
            <PickButtons label={`Resume ${p.fileName}`} onPick={(picked) => void upload.resume(p, picked)} />
            <Button variant="ghost" onClick={() => void upload.cancel(p.versionId)}>
              Discard
            </Button>
          </div>
        </li>
      ))}
    </ul>
  );
}

/** The upload area of a dataset page: a new version from an archive or folder, optionally on top of an older one. */
export function UploadPanel({
  datasetId,
  versions,
  upload,
  base,
  onBaseChange,
}: {
  datasetId: string;
  versions: DatasetVersionSummary[];
  upload: Upload;
  /** The version the new one builds on (adds/replaces files, removes paths), or null for a fresh upload. */
  base: number | null;
  onBaseChange: (version: number | null) => void;
}) {
  const [removed, setRemoved] = useState("");
  const bases = versions.filter((v) => v.status === "READY");
  const baseId = useId();
  const removedId = useId();
  const removedPaths = removed
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const send = async (req: UploadRequest) => {
    const version = await upload.start({ ...req, ...(base !== null ? { parent: base, removedPaths } : {}) });
    if (version) {
      toast.success(`${version.label} uploaded: validating on a worker`);
      setRemoved("");
    }
  };
  return (
    <Card>
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h2 className="font-semibold">New version</h2>
          <p className="text-sm text-zinc-500">
            A YOLO dataset (data.yaml with images/ and labels/, or a folder per class for classification). It goes straight to the object
            store in parts, then a worker checks every image and label.
          </p>
        </div>
        <div className="w-full sm:w-64">
          <label htmlFor={baseId} className="block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            Based on
          </label>
          <Select
            id={baseId}
            value={base ?? ""}
            disabled={upload.busy}
            onChange={(e) => onBaseChange(e.target.value ? Number(e.target.value) : null)}
          >
            <option value="">Nothing: a complete dataset</option>
            {bases.map((v) => (
              <option key={v.id} value={v.version}>
                v{v.version}: add, replace or remove files
              </option>
            ))}
          </Select>
        </div>
      </div>
      {base !== null && (
        <div className="mt-4 space-y-1">
          <label htmlFor={removedId} className="block text-sm font-medium text-zinc-800 dark:text-zinc-200">
            Paths to remove from v{base} (one per line)
          </label>
          <textarea
            id={removedId}
            rows={3}
            value={removed}
            onChange={(e) => setRemoved(e.target.value)}
            placeholder={"images/train/bad.jpg\nlabels/train/bad.txt"}
            className="block w-full rounded-md border border-zinc-300 bg-white px-3 py-2 font-mono text-xs dark:border-zinc-700 dark:bg-zinc-900"
          />
          <div className="flex flex-wrap items-center justify-between gap-2">
            <p className="text-xs text-zinc-500">Files in an archive dropped below are added, or replace those at the same path.</p>
            <Button
              variant="secondary"
              disabled={upload.busy || removedPaths.length === 0}
              onClick={() => void send({})}
              title="Only remove these paths, without an archive"
            >
              Make the version without an archive
            </Button>
          </div>
        </div>
      )}
      <div className="mt-4">
        <DropZone onPick={(p) => void send(p)} disabled={upload.busy}>
          <p className="text-sm font-medium">Drop a .zip, .tar or .tar.gz here, or a folder</p>
          <p className="mt-1 mb-3 text-xs text-zinc-500">A folder is zipped in your browser first.</p>
          <PickButtons label="Dataset archive" disabled={upload.busy} onPick={(p) => void send(p)} />
        </DropZone>
      </div>
      <ProgressLine progress={upload.progress} onCancel={() => void upload.cancel()} onDismiss={upload.dismiss} />
      <PendingResumes datasetId={datasetId} versions={versions} upload={upload} />
    </Card>
  );
}
