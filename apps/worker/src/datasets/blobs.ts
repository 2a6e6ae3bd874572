import { createReadStream, createWriteStream } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { DeleteObjectCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { datasetBlobKey } from "@wyolo/contracts";
import type { WorkerEnv } from "../env.ts";

type S3Env = Pick<WorkerEnv, "S3_REGION" | "S3_ACCESS_KEY_ID" | "S3_SECRET_ACCESS_KEY" | "S3_BUCKET" | "S3_FORCE_PATH_STYLE"> & {
  S3_ENDPOINT: string;
};

/** `fn` over `items`, at most `limit` at once; the first failure stops the rest and is thrown. */
export async function eachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>, signal?: AbortSignal) {
  let next = 0;
  let failed: { err: unknown } | null = null;
  const lane = async () => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        signal?.throwIfAborted();
        await fn(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  if (failed) throw (failed as { err: unknown }).err;
}

/**
 * The object store as datasets use it: uploaded archives, content-addressed blobs (one object per
 * distinct file content per team: `datasets/<team>/blobs/<sha256>`) and manifests. Also the
 * BlobSource the worker's dataset cache reads from.
 */
export class DatasetObjects {
  private readonly s3: S3Client;
  readonly bucket: string;

  constructor(env: S3Env) {
    this.bucket = env.S3_BUCKET;
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

  async open(key: string): Promise<{ body: Readable; length: number }> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!res.Body) throw new Error(`object ${key} has no body`);
    return { body: res.Body as Readable, length: Number(res.ContentLength ?? 0) };
  }

  /** Streams an object to a file; its size, or null when there is no such object. */
  async download(key: string, dest: string): Promise<number | null> {
    let got: { body: Readable; length: number };
    try {
      got = await this.open(key);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
    await mkdir(path.dirname(dest), { recursive: true });
    await pipeline(got.body, createWriteStream(dest));
    return got.length;
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async putBytes(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  /** A local file as an object (in parts when large), with its sha256 in the metadata. */
  async putFile(key: string, file: string, size: number, sha256: string): Promise<void> {
    await new Upload({
      client: this.s3,
      params: { Bucket: this.bucket, Key: key, Body: createReadStream(file), ContentLength: size, Metadata: { sha256 } },
      partSize: 16 * 1024 * 1024,
      queueSize: 2,
    }).done();
  }

  async remove(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /**
   * Stores the blobs of `files` that the team does not have yet: one HEAD per distinct content
   * (none for those in `known`, e.g. the parent version's), a PUT only when it is missing.
   */
  async storeBlobs(
    teamId: string,
    files: readonly { sha256: string; size: number; local: string }[],
    known: ReadonlySet<string>,
    concurrency: number,
    signal?: AbortSignal,
  ): Promise<{ uploaded: number; uploadedBytes: number }> {
    const distinct = new Map<string, { size: number; local: string }>();
    for (const f of files) if (!known.has(f.sha256) && !distinct.has(f.sha256)) distinct.set(f.sha256, f);
    let uploaded = 0;
    let uploadedBytes = 0;
    await eachLimited(
      [...distinct],
      concurrency,
      async ([sha256, f]) => {
        const key = datasetBlobKey(teamId, sha256);
        if (await this.exists(key)) return;
        await this.putFile(key, f.local, f.size, sha256);
        uploaded++;
        uploadedBytes += f.size;
      },
      signal,
    );
    return { uploaded, uploadedBytes };
  }
}

const isMissing = (err: unknown) => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === "NotFound" || e.name === "NoSuchKey" || e.$metadata?.httpStatusCode === 404;
};
