import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { CreateBucketCommand, HeadBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  datasetBlobKey,
  datasetManifestKey,
  datasetVersionLabel,
  type DatasetManifest,
  type DatasetReport,
  type DatasetTask,
} from "@wyolo/contracts";
import type { Db } from "@wyolo/db";
import { canonicalManifest } from "../../apps/worker/src/datasets/validate-version.ts";

/**
 * A READY dataset version put straight into the object store (blobs, canonical manifest) and
 * Postgres (Dataset, DatasetVersion), as validation leaves it: for tests of training from a
 * version that must not depend on the validator.
 */

export type S3Env = { S3_ENDPOINT: string; S3_ACCESS_KEY_ID: string; S3_SECRET_ACCESS_KEY: string; S3_BUCKET: string };
export type DatasetFiles = Record<string, Buffer | string>;

export const s3Client = (s3: S3Env) =>
  new S3Client({
    endpoint: s3.S3_ENDPOINT,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: s3.S3_ACCESS_KEY_ID, secretAccessKey: s3.S3_SECRET_ACCESS_KEY },
  });

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** Bytes that look random but are the same on every run (a sha256 chain from `seed`). */
function pseudoRandom(seed: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  let block = createHash("sha256").update(seed).digest();
  for (let at = 0; at < size; at += block.length) {
    block.copy(out, at);
    block = createHash("sha256").update(block).digest();
  }
  return out;
}

/**
 * A small detection set in the YOLO layout (images/{train,val}, labels/{train,val}, data.yaml):
 * `images` train images (a fifth more for val) of `imageBytes` each. Not decodable images: only the
 * fake trainer and the cache read them. Two label files share their content (one blob, two paths).
 */
export function shapesFiles({ images = 20, imageBytes = 2048, tag = "" } = {}): DatasetFiles {
  const files: DatasetFiles = { "data.yaml": "path: .\ntrain: images/train\nval: images/val\nnames:\n  0: circle\n  1: square\n" };
  const val = Math.max(1, Math.round(images / 5));
  for (const [split, n] of [
    ["train", images],
    ["val", val],
  ] as const) {
    for (let i = 0; i < n; i++) {
      files[`images/${split}/img_${i}.jpg`] = pseudoRandom(`${tag}${split}${i}`, imageBytes);
      files[`labels/${split}/img_${i}.txt`] = i < 2 ? "0 0.5 0.5 0.25 0.25\n" : `${i % 2} 0.${(i % 9) + 1} 0.5 0.1 0.2\n`;
    }
  }
  return files;
}

/** Every file under `dir` (e.g. a set made by apps/worker/trainer/make_dataset.py), by its relative path. */
export function filesOfDir(dir: string): DatasetFiles {
  const out: DatasetFiles = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.isFile()) out[path.relative(dir, full).split(path.sep).join("/")] = readFileSync(full);
    }
  };
  walk(dir);
  return out;
}

export type SeededVersion = {
  datasetId: string;
  versionId: string;
  version: number;
  label: string;
  /** `dataset:<name>@v<N>`, as a job's train.data names it. */
  ref: string;
  manifestHash: string;
  manifestKey: string;
  files: number;
  distinctBlobs: number;
  bytes: number;
};

type VersionShape = { task?: DatasetTask; names?: string[]; splits?: Record<string, string> };

/** A version's blobs (each distinct content once) and canonical manifest in the bucket, as validation stores them. */
export async function storeVersionObjects(s3: S3Env, teamId: string, files: DatasetFiles, shape: VersionShape = {}) {
  const task = shape.task ?? "detect";
  const names = shape.names ?? ["circle", "square"];
  const splits = shape.splits ?? (task === "classify" ? { train: "train", val: "val" } : { train: "images/train", val: "images/val" });
  const client = s3Client(s3);
  try {
    await client.send(new HeadBucketCommand({ Bucket: s3.S3_BUCKET }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: s3.S3_BUCKET }));
  }
  const entries = Object.entries(files).map(([p, content]) => {
    const body = Buffer.isBuffer(content) ? content : Buffer.from(content);
    return { path: p, sha256: sha256(body), size: body.length, body };
  });
  const blobs = new Map(entries.map((e) => [e.sha256, e.body]));
  await Promise.all(
    Array.from({ length: 8 }, async (_, lane) => {
      for (const [i, [digest, body]] of [...blobs].entries())
        if (i % 8 === lane)
          await client.send(new PutObjectCommand({ Bucket: s3.S3_BUCKET, Key: datasetBlobKey(teamId, digest), Body: body }));
    }),
  );
  const manifest: DatasetManifest = {
    version: 1,
    task,
    names,
    splits,
    files: entries.map(({ path: p, sha256: s, size }) => ({ path: p, sha256: s, size })),
  };
  const bytes = canonicalManifest(manifest);
  const manifestHash = sha256(bytes);
  const manifestKey = datasetManifestKey(teamId, manifestHash);
  await client.send(new PutObjectCommand({ Bucket: s3.S3_BUCKET, Key: manifestKey, Body: bytes, ContentType: "application/json" }));
  client.destroy();
  return {
    task,
    names,
    manifestHash,
    manifestKey,
    files: entries.length,
    blobKeys: [...blobs.keys()].map((digest) => datasetBlobKey(teamId, digest)),
    /** What a cold fetch downloads: each distinct content once. */
    blobBytes: [...blobs.values()].reduce((n, b) => n + b.length, 0),
    bytes: entries.reduce((n, e) => n + e.size, 0),
  };
}

export async function seedDatasetVersion(
  db: Db,
  s3: S3Env,
  opts: VersionShape & {
    teamId: string;
    name: string;
    version?: number;
    files: DatasetFiles;
    status?: "READY" | "INVALID";
    createdById?: string;
  },
): Promise<SeededVersion> {
  const stored = await storeVersionObjects(s3, opts.teamId, opts.files, opts);
  const { task, names, manifestHash, manifestKey } = stored;
  const dataset = await db.dataset.upsert({
    where: { teamId_name: { teamId: opts.teamId, name: opts.name } },
    create: { teamId: opts.teamId, name: opts.name, createdById: opts.createdById ?? null },
    update: {},
    select: { id: true },
  });
  const version =
    opts.version ??
    ((await db.datasetVersion.aggregate({ where: { datasetId: dataset.id }, _max: { version: true } }))._max.version ?? 0) + 1;
  const status = opts.status ?? "READY";
  const report: DatasetReport = { ok: status === "READY", task, counts: {}, issues: [] };
  const row = await db.datasetVersion.create({
    data: {
      datasetId: dataset.id,
      version,
      status,
      task,
      manifestHash,
      manifestKey,
      fileCount: stored.files,
      totalBytes: BigInt(stored.bytes),
      classNames: names,
      report,
      validatedAt: new Date(),
      createdById: opts.createdById ?? null,
    },
    select: { id: true },
  });
  return {
    datasetId: dataset.id,
    versionId: row.id,
    version,
    label: datasetVersionLabel(opts.name, version),
    ref: `dataset:${opts.name}@v${version}`,
    manifestHash,
    manifestKey,
    files: stored.files,
    distinctBlobs: stored.blobKeys.length,
    bytes: stored.bytes,
  };
}
