import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import { Transform, type Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Parser, type ReadEntry } from "tar";
import yauzl from "yauzl";

/** A file unpacked from an archive: its path below the dataset root (posix), size and sha256. */
export type ExtractedFile = { path: string; size: number; sha256: string };

export type ExtractLimits = { maxFiles: number; maxBytes: number };

/** The archive cannot be taken as it is (the version becomes INVALID with this as `report.fatal`). */
export class ArchiveRefused extends Error {}

/**
 * The worker's disk (or its quota) is full: this worker's problem, not the archive's, so the
 * validation is retried (here later, or on another worker) instead of the version refused.
 */
export class WorkerDiskFull extends Error {}

const isDiskFull = (err: unknown) => {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return code === "ENOSPC" || code === "EDQUOT";
};

export type ArchiveKind = "zip" | "tar" | "tgz";

/** Sniffs the archive's kind from its first bytes (the file name is the uploader's and may lie). */
export async function archiveKind(file: string): Promise<ArchiveKind | null> {
  const fh = await open(file, "r");
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 4 && head[0] === 0x50 && head[1] === 0x4b && (head[2] === 3 || head[2] === 5)) return "zip";
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return "tgz";
    if (bytesRead >= 262 && head.toString("latin1", 257, 262) === "ustar") return "tar";
    return null;
  } finally {
    await fh.close();
  }
}

/** Files packers add that are no part of a dataset (macOS resource forks, Finder and Explorer caches). */
const JUNK = /(^|\/)(__MACOSX\/|\.DS_Store$|\._[^/]*$|Thumbs\.db$|desktop\.ini$)/;

/**
 * An archive entry's name as a safe relative path, or a refusal: no absolute or drive paths, no
 * `..`, no backslashes or control characters. `./` and empty segments are dropped.
 */
export function safeEntryPath(name: string): string {
  const shown = JSON.stringify(name.slice(0, 200));
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw new ArchiveRefused(`The archive names an absolute path: ${shown}`);
  if (name.includes("\\")) throw new ArchiveRefused(`The archive names a path with a backslash: ${shown}`);
  if ([...name].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f))
    throw new ArchiveRefused(`The archive names a path with control characters: ${shown}`);
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw new ArchiveRefused(`The archive names a path outside its folder: ${shown}`);
  const clean = parts.join("/");
  if (clean.length > 1024) throw new ArchiveRefused(`The archive names a path longer than 1024 characters: ${shown}`);
  return clean;
}

const mb = (n: number) => `${Math.round(n / 1024 / 1024).toLocaleString("en-US")} MB`;

/** Unpacks entries under `dest`, enforcing the caps on what is actually written (not on what headers claim). */
class Unpacker {
  readonly files: ExtractedFile[] = [];
  private readonly seen = new Set<string>();
  private bytes = 0;

  constructor(
    private readonly dest: string,
    private readonly limits: ExtractLimits,
  ) {}

  /** Checks an entry before its bytes are read: name, count, the size its header declares. Null: skip it. */
  admit(name: string, declaredSize: number): string | null {
    const rel = safeEntryPath(name);
    if (!rel || JUNK.test(rel)) return null;
    if (this.seen.has(rel)) throw new ArchiveRefused(`The archive holds ${JSON.stringify(rel)} twice`);
    this.seen.add(rel);
    if (this.seen.size > this.limits.maxFiles)
      throw new ArchiveRefused(`The archive holds more than ${this.limits.maxFiles.toLocaleString("en-US")} files (DATASET_MAX_FILES)`);
    if (this.bytes + declaredSize > this.limits.maxBytes) throw this.tooLarge();
    return rel;
  }

  private tooLarge() {
    return new ArchiveRefused(`The archive unpacks to more than ${mb(this.limits.maxBytes)} (DATASET_MAX_BYTES)`);
  }

  /** Writes one entry's bytes, hashing and counting them; never overwrites, never follows a link (the folder is new). */
  async write(rel: string, body: Readable): Promise<void> {
    const target = path.join(this.dest, ...rel.split("/"));
    const hash = createHash("sha256");
    let size = 0;
    const count = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        size += chunk.length;
        this.bytes += chunk.length;
        if (this.bytes > this.limits.maxBytes) return done(this.tooLarge());
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await mkdir(path.dirname(target), { recursive: true });
      await pipeline(body, count, createWriteStream(target, { flags: "wx" }));
    } catch (err) {
      if (err instanceof ArchiveRefused) throw err;
      if (isDiskFull(err))
        throw new WorkerDiskFull(`The worker ran out of disk space unpacking the archive (${(err as NodeJS.ErrnoException).code})`, {
          cause: err,
        });
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EEXIST" || code === "ENOTDIR" || code === "EISDIR")
        throw new ArchiveRefused(`The archive holds ${JSON.stringify(rel)} both as a file and as a folder`);
      throw err;
    }
    this.files.push({ path: rel, size, sha256: hash.digest("hex") });
  }
}

async function unzip(file: string, u: Unpacker): Promise<void> {
  let zip: yauzl.ZipFile;
  try {
    // yauzl refuses absolute and `..` names itself (validateFileName) and checks that each entry inflates to its declared size.
    zip = await yauzl.openPromise(file, { lazyEntries: true, autoClose: true, validateEntrySizes: true, strictFileNames: true });
  } catch (err) {
    throw new ArchiveRefused(`Not a readable zip archive: ${(err as Error).message}`);
  }
  await new Promise<void>((resolve, reject) => {
    const fail = (err: Error) => {
      zip.close();
      reject(
        err instanceof ArchiveRefused || err instanceof WorkerDiskFull
          ? err
          : new ArchiveRefused(`The zip archive cannot be unpacked: ${err.message}`),
      );
    };
    zip.on("error", fail);
    zip.on("end", resolve);
    zip.on("entry", (entry: yauzl.Entry) => {
      void (async () => {
        const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
        if (entry.fileName.endsWith("/") || mode === 0o040000) return zip.readEntry();
        if (mode !== 0 && mode !== 0o100000)
          throw new ArchiveRefused(
            `The archive holds ${JSON.stringify(entry.fileName.slice(0, 200))} as a ${mode === 0o120000 ? "symbolic link" : "special file"}: only plain files are taken`,
          );
        if (entry.isEncrypted())
          throw new ArchiveRefused(`The archive holds an encrypted file: ${JSON.stringify(entry.fileName.slice(0, 200))}`);
        const rel = u.admit(entry.fileName, entry.uncompressedSize);
        if (rel === null) return zip.readEntry();
        const body = await zip.openReadStreamPromise(entry);
        await u.write(rel, body);
        zip.readEntry();
      })().catch(fail);
    });
    zip.readEntry();
  });
}

async function untar(file: string, u: Unpacker): Promise<void> {
  const pending: Promise<void>[] = [];
  let refused: Error | undefined;
  // The first refusal stops the parse (the rest of the archive is not read).
  const refuse = (err: Error, entry: ReadEntry) => {
    refused ??= err;
    entry.resume();
    parser.abort(err);
  };
  const parser: Parser = new Parser({
    strict: true,
    onReadEntry: (entry: ReadEntry) => {
      try {
        if (refused || entry.type === "Directory") return entry.resume();
        if (entry.type !== "File" && entry.type !== "OldFile" && entry.type !== "ContiguousFile")
          throw new ArchiveRefused(
            `The archive holds ${JSON.stringify(entry.path.slice(0, 200))} as a ${entry.type === "SymbolicLink" ? "symbolic link" : entry.type === "Link" ? "hard link" : `${entry.type} entry`}: only plain files are taken`,
          );
        const rel = u.admit(entry.path, entry.size ?? 0);
        if (rel === null) return entry.resume();
        pending.push(u.write(rel, entry as unknown as Readable).catch((err: Error) => refuse(err, entry)));
      } catch (err) {
        refuse(err as Error, entry);
      }
    },
  });
  try {
    await pipeline(createReadStream(file), parser);
  } catch (err) {
    if (refused) throw refused;
    const message = (err as Error).message;
    // node-tar's own guard against gzip bombs (its maxDecompressionRatio).
    if (/decompression ratio/.test(message)) throw new ArchiveRefused(`The archive is a decompression bomb: ${message}`);
    throw new ArchiveRefused(`Not a readable tar archive: ${message}`);
  }
  await Promise.all(pending);
  if (refused) throw refused;
}

/**
 * Unpacks a zip, tar or tar.gz under `dest` (a new, empty folder): plain files only (links, devices
 * and absolute or `..` paths refuse the whole archive), at most `maxFiles` files and `maxBytes` bytes
 * as actually unpacked. One folder holding everything is taken as the dataset's root. Returns that
 * root and its files, each hashed while written.
 */
export async function extractArchive(
  file: string,
  dest: string,
  limits: ExtractLimits,
): Promise<{ root: string; files: ExtractedFile[]; kind: ArchiveKind }> {
  const kind = await archiveKind(file);
  if (!kind) throw new ArchiveRefused("Not a zip, tar or tar.gz archive");
  await mkdir(dest, { recursive: true });
  const u = new Unpacker(dest, limits);
  if (kind === "zip") await unzip(file, u);
  else await untar(file, u);
  const { prefix, files } = stripTopFolder(u.files);
  return { root: prefix ? path.join(dest, prefix) : dest, files, kind };
}

/** When every file sits in one top folder (`shapes/…`), that folder is the root: `shapes/data.yaml` → `data.yaml`. */
export function stripTopFolder(files: ExtractedFile[]): { prefix: string; files: ExtractedFile[] } {
  const tops = new Set(files.map((f) => (f.path.includes("/") ? f.path.split("/")[0] : "")));
  const [top] = tops;
  if (tops.size !== 1 || !top) return { prefix: "", files };
  return { prefix: top, files: files.map((f) => ({ ...f, path: f.path.slice(top.length + 1) })) };
}
