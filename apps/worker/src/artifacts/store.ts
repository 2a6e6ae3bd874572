import { createHash, randomUUID } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import path from "node:path";
import { copyFile } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { newId, type Db } from "@wyolo/db";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";
import { isRetryableStatus, s3Status } from "../retryable.ts";

/** Files of a run worth keeping: weights, results, resolved args and plots. */
const KEEP = /^(weights\/[^/]+\.pt|results\.csv|args\.yaml|[^/]+\.(png|jpg))$/;

export type StoredArtifact = { id: string; name: string; size: number; sha256: string; storageKey: string };

/** An error worth retrying: no answer, a 5xx or throttling. A 4xx (no such key, access denied) will not change. */
export function isTransient(err: unknown): boolean {
  return isRetryableStatus(s3Status(err));
}

/**
 * Runs `fn` until it succeeds, waiting 1 s, 2 s, 4 s… (at most 30 s) between tries, for up to
 * `windowMs`; then throws the last error. Errors that are not transient are thrown at once.
 */
export async function withRetryWindow<T>(
  fn: () => Promise<T>,
  windowMs: number,
  onRetry?: (err: Error, attempt: number) => void,
): Promise<T> {
  const giveUpAt = Date.now() + windowMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const wait = Math.min(30_000, 1_000 * 2 ** (attempt - 1));
      if (!isTransient(err) || Date.now() + wait > giveUpAt) throw err;
      onRetry?.(err as Error, attempt);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

/** A copy of `file` beside it, taken while its size and mtime stayed the same (retried a few times). */
async function stableCopy(file: string): Promise<string> {
  const copy = `${file}.${randomUUID()}.upload`;
  try {
    for (let attempt = 0; attempt < 10; attempt++) {
      const before = statSync(file);
      await copyFile(file, copy);
      const after = statSync(file);
      if (before.size === after.size && before.mtimeMs === after.mtimeMs) return copy;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`${path.basename(file)} kept changing while it was being copied for upload`);
  } catch (err) {
    rmSync(copy, { force: true });
    throw err;
  }
}

export function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file)
      .on("data", (c) => hash.update(c))
      .on("error", reject)
      .on("end", () => resolve(hash.digest("hex")));
  });
}

function listRunFiles(saveDir: string): string[] {
  if (!existsSync(saveDir)) return [];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (KEEP.test(path.relative(saveDir, full).split(path.sep).join("/"))) out.push(full);
    }
  };
  walk(saveDir);
  return out.sort();
}

/**
 * Uploads a job's artifacts to the object store and records them (name, size, sha256, key).
 * Idempotent: the key is fixed per job, name and content, and a file whose checksum is already
 * recorded is not sent again; the version it replaces is deleted once the record points at the
 * new one. Large files go up in parts; the SDK retries failed requests.
 */
export class ArtifactStore {
  private readonly s3: S3Client;

  constructor(
    private readonly env: WorkerEnv & { S3_ENDPOINT: string },
    private readonly db: Db,
    private readonly log: Logger,
  ) {
    this.s3 = new S3Client({
      endpoint: env.S3_ENDPOINT,
      region: env.S3_REGION,
      forcePathStyle: env.S3_FORCE_PATH_STYLE,
      maxAttempts: 5,
      ...(env.S3_ACCESS_KEY_ID
        ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "" } }
        : {}),
    });
  }

  /** Creates the bucket when it is missing (idempotent). */
  async ensureBucket() {
    try {
      await this.s3.send(new HeadBucketCommand({ Bucket: this.env.S3_BUCKET }));
    } catch {
      await this.s3.send(new CreateBucketCommand({ Bucket: this.env.S3_BUCKET })).catch((err: Error & { name?: string }) => {
        if (!/BucketAlready(OwnedByYou|Exists)/.test(err.name ?? "")) throw err;
      });
    }
  }

  /** Uploads the given files (or every keepable file of the run when none are given). Returns the artifacts stored or changed. */
  async upload(jobId: string, saveDir: string, files?: string[]): Promise<StoredArtifact[]> {
    const stored: StoredArtifact[] = [];
    for (const file of files?.filter((f) => existsSync(f)) ?? listRunFiles(saveDir)) {
      const name = path.relative(saveDir, path.resolve(file)).split(path.sep).join("/");
      // Only the run's own files, and only the kinds worth keeping.
      if (name.startsWith("..") || path.isAbsolute(name) || !KEEP.test(name)) continue;
      const artifact = await this.storeFile(jobId, file, name);
      if (artifact.changed) stored.push(artifact);
    }
    if (stored.length) this.log.info({ jobId, stored: stored.map((a) => a.name) }, "artifacts uploaded");
    return stored;
  }

  /**
   * The end-of-job upload: like upload(), but an object store that is away is waited for
   * (retries with backoff, `onRetry` told of each) for up to `windowMs`, then the last error is thrown.
   */
  uploadPatiently(
    jobId: string,
    saveDir: string,
    windowMs: number,
    onRetry: (err: Error, attempt: number) => void,
  ): Promise<StoredArtifact[]> {
    return withRetryWindow(() => this.upload(jobId, saveDir), windowMs, onRetry);
  }

  /**
   * Stores one file as the job's artifact `name` (key `jobs/<job>/<sha256 prefix>/<name>`) and records it.
   * A file whose checksum is already recorded under that name is not sent again.
   */
  async storeFile(jobId: string, file: string, name: string): Promise<StoredArtifact & { changed: boolean }> {
    // The trainer rewrites its weights every epoch: hash and send a copy that did not change
    // while it was taken, so the stored bytes are whole and match their recorded checksum.
    const copy = await stableCopy(file);
    try {
      const digest = await sha256(copy);
      const existing = await this.db.jobArtifact.findUnique({
        where: { jobId_name: { jobId, name } },
        select: { id: true, size: true, sha256: true, storageKey: true },
      });
      if (existing?.sha256 === digest)
        return { id: existing.id, name, size: Number(existing.size), sha256: digest, storageKey: existing.storageKey, changed: false };
      // A key per content: a record always points at exactly the bytes it describes, even when a
      // worker dies between an upload and its record (the orphan is the new object, not the record's).
      const key = `jobs/${jobId}/${digest.slice(0, 16)}/${name}`;
      const size = statSync(copy).size;
      const send = () =>
        new Upload({
          client: this.s3,
          params: { Bucket: this.env.S3_BUCKET, Key: key, Body: createReadStream(copy), ContentLength: size, Metadata: { sha256: digest } },
          partSize: 8 * 1024 * 1024,
          queueSize: 2,
        }).done();
      try {
        await send();
      } catch (err) {
        // A bucket removed (or a store restarted empty) since start: create it and try once more.
        if ((err as Error).name !== "NoSuchBucket") throw err;
        await this.ensureBucket();
        await send();
      }
      const row = await this.db.jobArtifact.upsert({
        where: { jobId_name: { jobId, name } },
        create: { id: newId(), jobId, name, size: BigInt(size), sha256: digest, storageKey: key },
        update: { size: BigInt(size), sha256: digest, storageKey: key },
        select: { id: true },
      });
      if (existing && existing.storageKey !== key) {
        // The previous version is no longer referenced (a failed delete only leaves an orphan).
        await this.s3
          .send(new DeleteObjectCommand({ Bucket: this.env.S3_BUCKET, Key: existing.storageKey }))
          .catch((err: Error) =>
            this.log.warn({ err: { message: err.message }, key: existing.storageKey }, "could not delete a replaced artifact"),
          );
      }
      return { id: row.id, name, size, sha256: digest, storageKey: key, changed: true };
    } finally {
      rmSync(copy, { force: true });
    }
  }

  /** Writes a stored object to a local file, whole or not at all (written aside, then renamed). */
  async download(storageKey: string, dest: string): Promise<{ sha256?: string }> {
    const { body, sha256: stored } = await this.open(storageKey);
    mkdirSync(path.dirname(dest), { recursive: true });
    const partial = `${dest}.${randomUUID()}.part`;
    try {
      await pipeline(body, createWriteStream(partial));
      renameSync(partial, dest);
    } catch (err) {
      rmSync(partial, { force: true });
      throw err;
    }
    return { sha256: stored };
  }

  /**
   * Puts a job's stored artifacts back into its run directory (a job resumed on a worker whose
   * disk does not have its checkpoint). Each file is checked against its recorded sha256.
   * Returns the names restored.
   */
  async restore(jobId: string, saveDir: string, names: string[]): Promise<string[]> {
    const rows = await this.db.jobArtifact.findMany({
      where: { jobId, name: { in: names } },
      select: { name: true, storageKey: true, sha256: true },
    });
    const restored: string[] = [];
    for (const row of rows) {
      const dest = path.join(saveDir, ...row.name.split("/"));
      const { sha256: written } = await this.download(row.storageKey, dest);
      const digest = await sha256(dest);
      if (digest !== row.sha256) {
        // A worker that died between an upload and its record leaves a newer object than the
        // record says; the checksum stored with the object (written with it, at once) vouches for it.
        if (digest !== written) throw new Error(`${row.name} in the object store does not match its recorded checksum`);
        await this.db.jobArtifact.update({
          where: { jobId_name: { jobId, name: row.name } },
          data: { sha256: digest, size: BigInt(statSync(dest).size) },
        });
      }
      restored.push(row.name);
    }
    return restored;
  }

  /**
   * A shared file of the bucket (named weights under WEIGHTS_S3_PREFIX) cached at `dest`: fetched
   * again only when the object's ETag changed. False when the bucket has no such object.
   */
  async fetchCached(key: string, dest: string): Promise<boolean> {
    let etag: string;
    try {
      etag = (await this.s3.send(new HeadObjectCommand({ Bucket: this.env.S3_BUCKET, Key: key }))).ETag ?? "";
    } catch (err) {
      if ((err as Error).name === "NotFound" || (err as Error).name === "NoSuchKey") return false;
      throw err;
    }
    const stamp = `${dest}.etag`;
    if (existsSync(dest) && existsSync(stamp) && readFileSync(stamp, "utf8") === etag) return true;
    await this.download(key, dest);
    writeFileSync(stamp, etag);
    return true;
  }

  /** A stored object as a stream, with the sha256 the worker stored with it (its metadata). */
  async open(storageKey: string): Promise<{ body: Readable; length: number; sha256?: string }> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.env.S3_BUCKET, Key: storageKey }));
    if (!res.Body) throw new Error(`object ${storageKey} has no body`);
    return { body: res.Body as Readable, length: Number(res.ContentLength ?? 0), sha256: res.Metadata?.sha256 };
  }

  /** A server-side copy of a stored object to another bucket and key (an MLflow run's s3:// artifact root). */
  async copy(storageKey: string, bucket: string, key: string): Promise<void> {
    await this.s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        CopySource: `${this.env.S3_BUCKET}/${storageKey.split("/").map(encodeURIComponent).join("/")}`,
      }),
    );
  }
}
