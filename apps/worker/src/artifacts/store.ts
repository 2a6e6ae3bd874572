import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdirSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CopyObjectCommand, CreateBucketCommand, GetObjectCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { newId, type Db } from "@wyolo/db";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";

/** Files of a run worth keeping: weights, results, resolved args and plots. */
const KEEP = /^(weights\/[^/]+\.pt|results\.csv|args\.yaml|[^/]+\.(png|jpg))$/;

export type StoredArtifact = { id: string; name: string; size: number; sha256: string; storageKey: string };

/** Runs `fn` until it succeeds, waiting 1 s, 2 s, 4 s… (at most 30 s) between tries, for up to `windowMs`; then throws the last error. */
export async function withRetryWindow<T>(fn: () => Promise<T>, windowMs: number, onRetry?: (err: Error, attempt: number) => void): Promise<T> {
  const giveUpAt = Date.now() + windowMs;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const wait = Math.min(30_000, 1_000 * 2 ** (attempt - 1));
      if (Date.now() + wait > giveUpAt) throw err;
      onRetry?.(err as Error, attempt);
      await new Promise((r) => setTimeout(r, wait));
    }
  }
}

export function sha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(file).on("data", (c) => hash.update(c)).on("error", reject).on("end", () => resolve(hash.digest("hex")));
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
 * Idempotent: the key is fixed per job and name, and a file whose checksum is already recorded
 * is not sent again. Large files go up in parts; the SDK retries failed requests.
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
      ...(env.S3_ACCESS_KEY_ID ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "" } } : {}),
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
  uploadPatiently(jobId: string, saveDir: string, windowMs: number, onRetry: (err: Error, attempt: number) => void): Promise<StoredArtifact[]> {
    return withRetryWindow(() => this.upload(jobId, saveDir), windowMs, onRetry);
  }

  /**
   * Stores one file as the job's artifact `name` (key `jobs/<job>/<name>`) and records it.
   * A file whose checksum is already recorded under that name is not sent again.
   */
  async storeFile(jobId: string, file: string, name: string): Promise<StoredArtifact & { changed: boolean }> {
    const digest = await sha256(file);
    const existing = await this.db.jobArtifact.findUnique({ where: { jobId_name: { jobId, name } }, select: { id: true, size: true, sha256: true, storageKey: true } });
    if (existing?.sha256 === digest) return { id: existing.id, name, size: Number(existing.size), sha256: digest, storageKey: existing.storageKey, changed: false };
    const key = `jobs/${jobId}/${name}`;
    const size = statSync(file).size;
    const send = () =>
      new Upload({ client: this.s3, params: { Bucket: this.env.S3_BUCKET, Key: key, Body: createReadStream(file), ContentLength: size, Metadata: { sha256: digest } }, partSize: 8 * 1024 * 1024, queueSize: 2 }).done();
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
    return { id: row.id, name, size, sha256: digest, storageKey: key, changed: true };
  }

  /** Writes a stored object to a local file (an export on a worker that did not train the job). */
  async download(storageKey: string, dest: string): Promise<void> {
    const { body } = await this.open(storageKey);
    mkdirSync(path.dirname(dest), { recursive: true });
    await pipeline(body, createWriteStream(dest));
  }

  async open(storageKey: string): Promise<{ body: Readable; length: number }> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.env.S3_BUCKET, Key: storageKey }));
    if (!res.Body) throw new Error(`object ${storageKey} has no body`);
    return { body: res.Body as Readable, length: Number(res.ContentLength ?? 0) };
  }

  /** A server-side copy of a stored object to another bucket and key (an MLflow run's s3:// artifact root). */
  async copy(storageKey: string, bucket: string, key: string): Promise<void> {
    await this.s3.send(new CopyObjectCommand({ Bucket: bucket, Key: key, CopySource: `${this.env.S3_BUCKET}/${storageKey.split("/").map(encodeURIComponent).join("/")}` }));
  }
}
