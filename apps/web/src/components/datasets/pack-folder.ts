import { Zip, ZipDeflate, ZipPassThrough } from "fflate";

/** One file of a dropped or chosen folder, with its path inside the folder (`shapes/images/train/a.jpg`). */
export type FolderFile = { path: string; file: File };

const JUNK = /(^|\/)(\.DS_Store|Thumbs\.db|desktop\.ini|__MACOSX(\/.*)?|\._[^/]*)$/i;
/** Files a desktop leaves in folders (Finder, Explorer): never part of a dataset. */
export const isJunk = (path: string) => JUNK.test(path);

// Images and archives are compressed already: deflating them costs time and saves nothing.
const STORED = /\.(jpe?g|png|webp|gif|bmp|tiff?|dng|mpo|heic|avif|zip|gz|tgz|npy)$/i;
export const storeWithoutDeflate = (path: string) => STORED.test(path);

/** The archive's name: the folder's own name (the first path segment they all share), else `dataset`. */
export function archiveName(paths: readonly string[]): string {
  const first = paths[0]?.split("/")[0];
  const shared = first && paths.every((p) => p.startsWith(`${first}/`));
  return `${shared ? first : "dataset"}.zip`;
}

/** Files deflated: small ones (labels, YAMLs) read whole, so the bytes never depend on how a stream chunked them. */
const DEFLATE_MAX_BYTES = 4 * 1024 * 1024;

export type PackProgress = { files: number; totalFiles: number; bytes: number; totalBytes: number };

/**
 * Zips a folder in the browser (fflate, file by file) into a File to upload. The same folder gives
 * the same bytes — entries sorted, each stamped with its file's mtime, large files stored as they
 * are and small ones deflated in one piece (deflate's output would follow the read chunks) — so
 * a packed folder can be matched again to resume its upload after a reload.
 */
export async function packFolder(files: FolderFile[], onProgress?: (p: PackProgress) => void, signal?: AbortSignal): Promise<File> {
  const kept = files.filter((f) => !isJunk(f.path)).sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (!kept.length) throw new Error("The folder has no files");
  const totalBytes = kept.reduce((n, f) => n + f.file.size, 0);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  let failed: Error | null = null;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));
  const zip = new Zip((err, data, final) => {
    if (err) failed = err;
    else chunks.push(data as Uint8Array<ArrayBuffer>);
    if (err || final) finished();
  });
  let bytes = 0;
  for (const [i, { path, file }] of kept.entries()) {
    if (signal?.aborted) throw new DOMException("Packing cancelled", "AbortError");
    const deflate = !storeWithoutDeflate(path) && file.size <= DEFLATE_MAX_BYTES;
    const entry = deflate ? new ZipDeflate(path, { level: 6 }) : new ZipPassThrough(path);
    entry.mtime = file.lastModified;
    zip.add(entry);
    if (deflate) {
      entry.push(new Uint8Array(await file.arrayBuffer()), true);
      bytes += file.size;
      onProgress?.({ files: i, totalFiles: kept.length, bytes, totalBytes });
    } else {
      const reader = file.stream().getReader();
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        entry.push(value);
        bytes += value.byteLength;
        onProgress?.({ files: i, totalFiles: kept.length, bytes, totalBytes });
      }
      entry.push(new Uint8Array(0), true);
    }
    if (failed) throw failed;
  }
  zip.end();
  await done;
  if (failed) throw failed;
  onProgress?.({ files: kept.length, totalFiles: kept.length, bytes: totalBytes, totalBytes });
  const lastModified = Math.max(...kept.map((f) => f.file.lastModified));
  return new File(chunks, archiveName(kept.map((f) => f.path)), { type: "application/zip", lastModified });
}

/** The files of a folder dropped on the page (the File System entries API; a reader answers in batches). */
export async function filesOfDroppedEntry(entry: FileSystemEntry, prefix = ""): Promise<FolderFile[]> {
  const path = prefix ? `${prefix}/${entry.name}` : entry.name;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    return [{ path, file }];
  }
  if (!entry.isDirectory) return [];
  const reader = (entry as FileSystemDirectoryEntry).createReader();
  const children: FileSystemEntry[] = [];
  for (;;) {
    const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
    if (!batch.length) break;
    children.push(...batch);
  }
  const nested = await Promise.all(children.map((child) => filesOfDroppedEntry(child, path)));
  return nested.flat();
}

/** The files of an `<input webkitdirectory>` choice (each carries its path in the folder). */
export const filesOfFolderInput = (list: FileList): FolderFile[] =>
  Array.from(list, (file) => ({ path: file.webkitRelativePath || file.name, file }));

const ARCHIVE = /\.(zip|tar|tar\.gz|tgz)$/i;
export const isArchiveName = (name: string) => ARCHIVE.test(name);
