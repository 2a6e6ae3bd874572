import { createHash } from "node:crypto";
import { createReadStream, existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { CreateBucketCommand, HeadBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { newId, type Db } from "@wyolo/db";
import type { WorkerEnv } from "../env.ts";
import type { Logger } from "../logger.ts";

/** Files of a run worth keeping: weights, results, resolved args and plots. */
const KEEP = /^(weights\/[^/]+\.pt|results\.csv|args\.yaml|[^/]+\.(png|jpg))$/;

function sha256(file: string): Promise<string> {
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

  /** Uploads the given files (or every keepable file of the run when none are given). Returns the names stored. */
  async upload(jobId: string, saveDir: string, files?: string[]): Promise<string[]> {
    const stored: string[] = [];
    for (const file of files?.filter((f) => existsSync(f)) ?? listRunFiles(saveDir)) {
      const name = path.relative(saveDir, path.resolve(file)).split(path.sep).join("/");
      // Only the run's own files, and only the kinds worth keeping.
      if (name.startsWith("..") || path.isAbsolute(name) || !KEEP.test(name)) continue;
      const digest = await sha256(file);
      const existing = await this.db.jobArtifact.findUnique({ where: { jobId_name: { jobId, name } }, select: { sha256: true } });
      if (existing?.sha256 === digest) continue;
      const key = `jobs/${jobId}/${name}`;
      const size = statSync(file).size;
      await new Upload({ client: this.s3, params: { Bucket: this.env.S3_BUCKET, Key: key, Body: createReadStream(file), ContentLength: size, Metadata: { sha256: digest } }, partSize: 8 * 1024 * 1024, queueSize: 2 }).done();
      await this.db.jobArtifact.upsert({
        where: { jobId_name: { jobId, name } },
        create: { id: newId(), jobId, name, size: BigInt(size), sha256: digest, storageKey: key },
        update: { size: BigInt(size), sha256: digest, storageKey: key },
      });
      stored.push(name);
    }
    if (stored.length) this.log.info({ jobId, stored }, "artifacts uploaded");
    return stored;
  }
}
