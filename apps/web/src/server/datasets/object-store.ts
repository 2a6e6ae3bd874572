import "server-only";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListPartsCommand,
  PutBucketCorsCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
  type CORSRule,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { DATASET_UPLOAD_PART_BYTES } from "@wyolo/contracts";
import { env } from "@/env";
import { AppError } from "../errors";
import { logger } from "../logger";

/**
 * The dataset side of the object store: multipart uploads the browser or CLI fill through
 * presigned part URLs (the web app never carries the bytes), presigned image reads, and deletes.
 * Control calls go to S3_ENDPOINT; URLs are signed for S3_PUBLIC_ENDPOINT, which callers reach.
 */

const clients: { control?: S3Client; public?: S3Client } = {};

function client(kind: "control" | "public"): S3Client {
  const endpoint = kind === "public" ? (env.S3_PUBLIC_ENDPOINT ?? env.S3_ENDPOINT) : env.S3_ENDPOINT;
  if (!endpoint) throw new AppError("SERVICE_UNAVAILABLE", "No object store is configured on this platform (S3_ENDPOINT)");
  clients[kind] ??= new S3Client({
    endpoint,
    region: env.S3_REGION,
    forcePathStyle: env.S3_FORCE_PATH_STYLE,
    ...(env.S3_ACCESS_KEY_ID
      ? { credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY ?? "" } }
      : {}),
    // An unreachable store answers 503 in seconds, not after the SDK's long retries.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 15_000 },
    // Presigned PUTs carry no body when signed: by default the SDK would sign the empty body's CRC32
    // into each URL (x-amz-checksum-crc32=AAAAAA==), and S3, MinIO and R2 refuse every real part.
    ...(kind === "public" ? { requestChecksumCalculation: "WHEN_REQUIRED" as const } : {}),
  });
  return clients[kind];
}

/** A store that answered "no such thing" (as opposed to one that is away). */
const isMissing = (err: unknown) =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 404 || err.name === "NotFound" || err.name === "NoSuchKey");
/** s3rver has no ListParts or AbortMultipartUpload (405); S3 and MinIO have both. */
const isUnsupported = (err: unknown) =>
  err instanceof S3ServiceException && (err.$metadata.httpStatusCode === 405 || err.$metadata.httpStatusCode === 501);

/** Any other store failure: the caller sees 503, the log has the store's words (no credentials in them). */
function storeDown(err: unknown, what: string): AppError {
  logger.error({ err: { message: (err as Error).message, name: (err as Error).name } }, `object store: ${what} failed`);
  return new AppError("SERVICE_UNAVAILABLE", "The object store is unavailable; try again shortly");
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof AppError) throw err;
    throw storeDown(err, what);
  }
}

const uploadTtl = () => env.DATASET_UPLOAD_URL_TTL_SECONDS;
/** Preview links live at most 5 minutes, whatever the download TTL. */
export const previewTtl = () => Math.min(env.DOWNLOAD_URL_TTL_SECONDS, 300);

// --- Bucket CORS for browser uploads

const CORS_RULE_ID = "wyolo-dataset-uploads";
let corsReady: Promise<void> | null = null;

/** The rule browsers need: PUT parts (and GET previews) from the dashboard's origin, the ETag readable. */
export function uploadCorsRule(origin = new URL(env.NEXTAUTH_URL).origin): CORSRule {
  return {
    ID: CORS_RULE_ID,
    AllowedOrigins: [origin],
    AllowedMethods: ["PUT", "GET", "HEAD"],
    AllowedHeaders: ["*"],
    ExposeHeaders: ["ETag"],
    MaxAgeSeconds: 3600,
  };
}

/**
 * Adds the upload rule to the bucket's CORS once per process (kept beside any rules already there),
 * before the first upload. A failure is logged and tried again at the next upload; S3_CONFIGURE_CORS=false
 * leaves the bucket alone (its CORS managed outside).
 */
export function ensureUploadCors(): Promise<void> {
  if (!env.S3_CONFIGURE_CORS) return Promise.resolve();
  corsReady ??= (async () => {
    const s3 = client("control");
    let rules: CORSRule[] = [];
    try {
      rules = (await s3.send(new GetBucketCorsCommand({ Bucket: env.S3_BUCKET }))).CORSRules ?? [];
    } catch (err) {
      if (!(err instanceof S3ServiceException && err.name === "NoSuchCORSConfiguration") && !isMissing(err)) throw err;
    }
    const wanted = uploadCorsRule();
    const others = rules.filter((r) => r.ID !== CORS_RULE_ID);
    const current = rules.find((r) => r.ID === CORS_RULE_ID);
    if (current && JSON.stringify(current.AllowedOrigins) === JSON.stringify(wanted.AllowedOrigins)) return;
    await s3.send(new PutBucketCorsCommand({ Bucket: env.S3_BUCKET, CORSConfiguration: { CORSRules: [...others, wanted] } }));
    logger.info({ bucket: env.S3_BUCKET, origin: wanted.AllowedOrigins }, "bucket CORS rule for browser uploads set");
  })().catch((err: Error) => {
    corsReady = null;
    logger.warn(
      { err: { message: err.message, name: err.name } },
      "bucket CORS not set; browser uploads may be refused by the object store",
    );
  });
  return corsReady;
}

// --- Multipart uploads

export const startMultipart = (key: string) =>
  call("create multipart upload", async () => {
    const out = await client("control").send(
      new CreateMultipartUploadCommand({ Bucket: env.S3_BUCKET, Key: key, ContentType: "application/octet-stream" }),
    );
    if (!out.UploadId) throw new Error("no upload id in the answer");
    return out.UploadId;
  });

/** The bytes part n of an upload of `size` bytes holds: whole parts, then the rest (0 for an empty archive). */
export const partLength = (size: number, partNumber: number, partSize = DATASET_UPLOAD_PART_BYTES) =>
  Math.max(0, Math.min(partSize, size - (partNumber - 1) * partSize));

/**
 * Presigned UploadPart URLs (signing is local: no call to the store). Each is signed with its part's
 * exact Content-Length, so the store refuses a PUT of any other length: the declared size, which the
 * quota counted, bounds what lands in the bucket.
 */
export async function signParts(key: string, uploadId: string, size: number, partNumbers: number[]) {
  const s3 = client("public");
  return Promise.all(
    partNumbers.map(async (partNumber) => ({
      partNumber,
      url: await getSignedUrl(
        s3,
        new UploadPartCommand({
          Bucket: env.S3_BUCKET,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          ContentLength: partLength(size, partNumber),
        }),
        { expiresIn: uploadTtl(), signableHeaders: new Set(["content-length"]) },
      ),
    })),
  );
}

export const urlsExpireAt = () => new Date(Date.now() + uploadTtl() * 1000).toISOString();

export type StoredPart = { partNumber: number; size: number; etag: string };

/** The parts the store holds; null where the store cannot list them (s3rver): the client then keeps its own list. */
export const listParts = (key: string, uploadId: string) =>
  call("list parts", async (): Promise<StoredPart[] | null> => {
    const parts: StoredPart[] = [];
    let marker: string | undefined;
    try {
      for (;;) {
        const out = await client("control").send(
          new ListPartsCommand({ Bucket: env.S3_BUCKET, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
        );
        for (const p of out.Parts ?? []) parts.push({ partNumber: p.PartNumber!, size: Number(p.Size ?? 0), etag: p.ETag ?? "" });
        if (!out.IsTruncated) return parts;
        marker = out.NextPartNumberMarker;
      }
    } catch (err) {
      if (isUnsupported(err)) return null;
      if (err instanceof S3ServiceException && err.name === "NoSuchUpload") return [];
      throw err;
    }
  });

/** Completes the upload from these parts; a part the store does not have (or a wrong ETag) is the caller's mistake (422). */
export const completeMultipart = (key: string, uploadId: string, parts: { partNumber: number; etag: string }[]) =>
  call("complete multipart upload", async () => {
    try {
      await client("control").send(
        new CompleteMultipartUploadCommand({
          Bucket: env.S3_BUCKET,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: {
            Parts: [...parts].sort((a, b) => a.partNumber - b.partNumber).map((p) => ({ PartNumber: p.partNumber, ETag: p.etag })),
          },
        }),
      );
    } catch (err) {
      if (err instanceof S3ServiceException && ["InvalidPart", "InvalidPartOrder", "EntityTooSmall", "NoSuchUpload"].includes(err.name))
        throw new AppError("VALIDATION_FAILED", "The object store refused the parts", { parts: [`${err.name}: ${err.message}`] });
      if (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 400)
        throw new AppError("VALIDATION_FAILED", "The object store refused the parts", { parts: [err.message] });
      throw err;
    }
  });

/** Best effort: s3rver cannot abort, and S3's lifecycle rule for incomplete uploads cleans up what is left. */
export async function abortMultipart(key: string, uploadId: string): Promise<void> {
  try {
    await client("control").send(new AbortMultipartUploadCommand({ Bucket: env.S3_BUCKET, Key: key, UploadId: uploadId }));
  } catch (err) {
    if (isUnsupported(err) || isMissing(err) || (err instanceof S3ServiceException && err.name === "NoSuchUpload")) return;
    logger.warn({ err: { message: (err as Error).message }, key }, "multipart upload not aborted");
  }
}

/** The object's size, or null when there is none. */
export const objectSize = (key: string) =>
  call("head object", async () => {
    try {
      const out = await client("control").send(new HeadObjectCommand({ Bucket: env.S3_BUCKET, Key: key }));
      return Number(out.ContentLength ?? 0);
    } catch (err) {
      if (isMissing(err)) return null;
      throw err;
    }
  });

/** Deletes keys in batches of 1,000; failures are logged (an orphan object costs space, never correctness). */
export async function deleteObjects(keys: string[]): Promise<number> {
  let deleted = 0;
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    try {
      await client("control").send(
        new DeleteObjectsCommand({ Bucket: env.S3_BUCKET, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }),
      );
      deleted += batch.length;
    } catch (err) {
      logger.warn({ err: { message: (err as Error).message }, count: batch.length }, "dataset objects not deleted");
    }
  }
  return deleted;
}

/** A short-lived GET of one stored file, for the preview. */
export const signGet = (key: string) =>
  getSignedUrl(client("public"), new GetObjectCommand({ Bucket: env.S3_BUCKET, Key: key }), { expiresIn: previewTtl() });
