import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  datasetBlobKey,
  datasetReportSchema,
  datasetUploadKey,
  manifestSchema,
  VALIDATE_DATASET_JOB,
  validationJobId,
  type DatasetReport,
} from "@wyolo/contracts";
import { startS3rver } from "./s3rver";

// The validate-dataset job through a real worker process, a real S3 server (s3rver) and the real
// Python validator: archives in, versions READY or INVALID with their report, items and blobs out.
const s3 = await startS3rver();
const S3 = s3.env;
Object.assign(process.env, S3);

const { db } = await import("@/server/db");
const { trainingQueue } = await import("@/server/queue");
const { createTeamWith, createUser } = await import("./helpers");
const { ROOT } = await import("./db");
const { startWorker, waitFor } = await import("./worker-harness");
const { reconcileQueue } = await import("@/server/jobs/reconcile-queue");

const PYTHON = existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
const FACTORY = path.join(ROOT, "apps/worker/datasets/tests/dataset_factory.py");
const tmp = mkdtempSync(path.join(os.tmpdir(), "wyolo-dsv-"));
const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-dsv-worker-"));
const s3client = new S3Client({
  endpoint: S3.S3_ENDPOINT,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");
let worker: ReturnType<typeof startWorker>;
let teamId: string;
let datasetId: string;
let userId: string;
// What the worker published to the dataset's socket.io room (the emitter's Redis channel).
const events: string[] = [];
const sub = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");

beforeAll(async () => {
  userId = (await createUser()).id;
  teamId = (await createTeamWith([{ userId, role: "MEMBER" }])).id;
  datasetId = (await db.dataset.create({ data: { teamId, name: "shapes", createdById: userId } })).id;
  await sub.psubscribe("socket.io#/#dataset:*");
  sub.on("pmessageBuffer", (_p: Buffer, _c: Buffer, message: Buffer) => events.push(message.toString("latin1")));
  worker = startWorker("dsv", {
    ...S3,
    WORKER_DATA_DIR: dataDir,
    VALIDATOR_COMMAND: `${PYTHON} apps/worker/datasets/validate_dataset.py`,
    VALIDATOR_PROCS: "2",
    DATASET_MAX_BYTES: "50M",
    DATASET_MAX_FILES: "1000",
  });
  await worker.ready;
}, 90_000);

afterAll(async () => {
  await worker?.stop();
  await trainingQueue.obliterate({ force: true });
  sub.disconnect();
  await s3.close();
  rmSync(tmp, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

let n = 0;
function factory(args: string[]): string {
  const out = path.join(tmp, `archive-${n++}`);
  const res = spawnSync(PYTHON, [FACTORY, out, ...args], { encoding: "utf8" });
  if (res.status !== 0) throw new Error(res.stderr);
  return out;
}

/** A VALIDATING version whose archive (if any) is in the object store, and its validation queued. */
async function submit(archive: string | null, extra: { parentId?: string; removedPaths?: string[]; queue?: false } = {}) {
  const last = await db.datasetVersion.findFirst({ where: { datasetId }, orderBy: { version: "desc" }, select: { version: true } });
  const version = await db.datasetVersion.create({
    data: {
      datasetId,
      version: (last?.version ?? 0) + 1,
      status: "VALIDATING",
      createdById: userId,
      ...(extra.parentId ? { parentId: extra.parentId } : {}),
      ...(extra.removedPaths ? { removedPaths: extra.removedPaths } : {}),
    },
  });
  if (archive) {
    const key = datasetUploadKey(teamId, version.id, "upload.bin");
    const body = readFileSync(archive);
    await s3client.send(new PutObjectCommand({ Bucket: S3.S3_BUCKET, Key: key, Body: body }));
    await db.datasetVersion.update({
      where: { id: version.id },
      data: { uploadKey: key, uploadName: "upload.bin", uploadSize: body.length },
    });
  }
  if (extra.queue !== false) await enqueue(version.id);
  return version.id;
}
const enqueue = (versionId: string, jobId = validationJobId(versionId)) =>
  trainingQueue.add(VALIDATE_DATASET_JOB, { versionId }, { jobId, attempts: 2, backoff: { type: "fixed", delay: 500 } });

async function settled(versionId: string) {
  return waitFor(
    async () => {
      const v = await db.datasetVersion.findUniqueOrThrow({ where: { id: versionId } });
      return v.status === "READY" || v.status === "INVALID" ? v : undefined;
    },
    60_000,
    `version ${versionId} validated\n${worker.output().slice(-3000)}`,
  );
}
const objectKeys = async (prefix: string) =>
  ((await s3client.send(new ListObjectsV2Command({ Bucket: S3.S3_BUCKET, Prefix: prefix }))).Contents ?? []).map((o) => o.Key!);
const getObject = async (key: string) =>
  Buffer.from(await (await s3client.send(new GetObjectCommand({ Bucket: S3.S3_BUCKET, Key: key }))).Body!.transformToByteArray());

describe("validate-dataset", () => {
  let cleanId: string;

  it("a clean archive becomes READY: counts, stats, manifest, blobs, items, a live event", async () => {
    cleanId = await submit(factory(["--task", "detect", "--archive", "zip", "--top", "shapes"]));
    const v = await settled(cleanId);
    expect(v.failureReason).toBeNull();
    expect(v.status).toBe("READY");
    expect(v.task).toBe("detect");
    expect(v.fileCount).toBe(25);
    expect(v.classNames).toEqual(["bird", "cat", "dog"]);
    expect(v.workerName).toBe("dsv");
    const report = datasetReportSchema.parse(v.report);
    expect(report).toEqual({ ok: true, task: "detect", counts: {}, issues: [] });
    const stats = v.stats as { imagesPerSplit: Record<string, number>; instancesPerClass: { count: number }[] };
    expect(stats.imagesPerSplit).toEqual({ train: 8, val: 4 });
    // Two objects per image, of classes i % 3 and (i + 1) % 3.
    expect(stats.instancesPerClass.map((c) => c.count)).toEqual([8, 9, 7]);

    // The manifest: its bytes hash to manifestHash, every file's blob is stored under its sha256.
    const manifestBytes = await getObject(v.manifestKey!);
    expect(sha(manifestBytes)).toBe(v.manifestHash);
    const manifest = manifestSchema.parse(JSON.parse(manifestBytes.toString()));
    expect(manifest.splits).toEqual({ train: "images/train", val: "images/val" });
    expect(manifest.files.map((f) => f.path)).toContain("data.yaml");
    expect(Number(v.totalBytes)).toBe(manifest.files.reduce((s, f) => s + f.size, 0));
    const blobs = new Set(await objectKeys(`datasets/${teamId}/blobs/`));
    for (const f of manifest.files) expect(blobs.has(datasetBlobKey(teamId, f.sha256))).toBe(true);
    const image = manifest.files.find((f) => f.path === "images/train/img_0003.jpg")!;
    expect(sha(await getObject(datasetBlobKey(teamId, image.sha256)))).toBe(image.sha256);

    const items = await db.datasetItem.findMany({ where: { versionId: cleanId }, orderBy: { path: "asc" } });
    expect(items).toHaveLength(25);
    expect(items.filter((i) => i.kind === "image")).toHaveLength(12);
    expect(items.filter((i) => i.kind === "label")).toHaveLength(12);
    expect(items.find((i) => i.path === "data.yaml")?.kind).toBe("yaml");
    const item = items.find((i) => i.path === "images/train/img_0003.jpg")!;
    expect(item).toMatchObject({ split: "train", width: 64, height: 48, classIds: [0, 1], errorCount: 0 });
    expect((item.labels as { c: number; box: number[] }[]).map((l) => l.c)).toEqual([0, 1]);

    // The uploaded archive is gone; the dataset's room heard the change.
    expect(await objectKeys(`datasets/${teamId}/uploads/${cleanId}/`)).toEqual([]);
    await waitFor(
      async () => events.some((e) => e.includes(cleanId) && e.includes("dataset:version") && e.includes("READY")),
      5_000,
      "event",
    );
  });

  it("the same files again (as tar.gz) make the same manifest and store no blob twice", async () => {
    const before = await objectKeys(`datasets/${teamId}/blobs/`);
    const id = await submit(factory(["--task", "detect", "--archive", "tgz"]));
    const v = await settled(id);
    const first = await db.datasetVersion.findUniqueOrThrow({ where: { id: cleanId } });
    expect(v.status).toBe("READY");
    expect(v.manifestHash).toBe(first.manifestHash);
    expect(await objectKeys(`datasets/${teamId}/blobs/`)).toEqual(before);
  });

  it("a version made from another: the parent's files minus the removed ones", async () => {
    const id = await submit(null, {
      parentId: cleanId,
      removedPaths: ["images/train/img_0000.jpg", "labels/train/img_0000.txt", "nope.txt"],
    });
    const v = await settled(id);
    expect(v.status).toBe("READY");
    expect(v.fileCount).toBe(23);
    expect((v.stats as { imagesPerSplit: Record<string, number> }).imagesPerSplit).toEqual({ train: 7, val: 4 });
    const report = v.report as DatasetReport;
    expect(report.ok).toBe(true);
    expect(report.issues).toEqual([expect.objectContaining({ code: "removed_path_unknown", file: "nope.txt", severity: "warning" })]);
    expect(await db.datasetItem.count({ where: { versionId: id } })).toBe(23);
  });

  it("a defective archive becomes INVALID with its report, items carrying their errors", async () => {
    const id = await submit(factory(["--task", "segment", "--defects", "all", "--archive", "tar"]));
    const v = await settled(id);
    expect(v.status).toBe("INVALID");
    expect(v.task).toBe("segment");
    const report = datasetReportSchema.parse(v.report);
    expect(report.ok).toBe(false);
    expect(report.fatal).toBeUndefined();
    const at = (code: string) => report.issues.find((i) => i.code === code);
    expect(at("bad_polygon")).toMatchObject({ file: "labels/train/img_0005.txt", line: 2, severity: "error" });
    expect(at("class_out_of_range")).toMatchObject({ file: "labels/train/img_0003.txt", line: 2 });
    expect(at("corrupt_image")).toMatchObject({ file: "images/train/img_0001.jpg" });
    expect(at("names_mismatch")).toMatchObject({ file: "data.yaml", line: 4 });
    expect(v.failureReason).toMatch(/^6 errors: .*bad_polygon 1/);
    const broken = await db.datasetItem.findUniqueOrThrow({
      where: { versionId_path: { versionId: id, path: "images/train/img_0005.jpg" } },
    });
    expect(broken.errorCount).toBe(1);
    // Kept as a failed version: its files are stored for the report's preview.
    expect(v.manifestHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it.each([
    ["zip", "dotdot", /outside its folder|invalid relative path/],
    ["tar", "symlink", /symbolic link/],
    ["zip", "bomb", /more than 50 MB/],
    ["tgz", "absolute", /absolute path/],
  ] as const)("an unsafe %s (%s) becomes INVALID with report.fatal, nothing written outside", async (kind, what, message) => {
    const id = await submit(factory(["--unsafe", what, "--archive", kind]));
    const v = await settled(id);
    expect(v.status).toBe("INVALID");
    const report = datasetReportSchema.parse(v.report);
    expect(report.fatal).toMatch(message);
    expect(v.failureReason).toMatch(message);
    expect(await db.datasetItem.count({ where: { versionId: id } })).toBe(0);
    expect(v.manifestHash).toBeNull();
    // The worker's data folder holds no trace of it (the work folder is removed; nothing escaped).
    expect(readdirSync(dataDir, { recursive: true }).some((p) => String(p).includes("escaped"))).toBe(false);
    await waitFor(async () => !existsSync(path.join(dataDir, "dataset-validation", id)), 5_000, "the work folder removed");
    expect(existsSync("/tmp/wyolo-absolute-escape.txt")).toBe(false);
    expect(await objectKeys(`datasets/${teamId}/uploads/${id}/`)).toEqual([]);
  });

  it("validating again changes nothing; a version not VALIDATING is left alone", async () => {
    const before = await db.datasetVersion.findUniqueOrThrow({ where: { id: cleanId } });
    const job = await enqueue(cleanId, `again-${cleanId}`);
    await waitFor(async () => (await job.isCompleted()) || undefined, 20_000, "second validation");
    const after = await db.datasetVersion.findUniqueOrThrow({ where: { id: cleanId } });
    expect(after.updatedAt).toEqual(before.updatedAt);
    expect(await db.datasetItem.count({ where: { versionId: cleanId } })).toBe(25);

    const uploading = await db.datasetVersion.create({ data: { datasetId, version: 99, status: "UPLOADING" } });
    const job2 = await enqueue(uploading.id);
    await waitFor(async () => (await job2.isCompleted()) || undefined, 20_000, "validation of an UPLOADING version");
    expect((await db.datasetVersion.findUniqueOrThrow({ where: { id: uploading.id } })).status).toBe("UPLOADING");
  });

  it("a version made from a parent deleted before its validation becomes INVALID, not the archive alone", async () => {
    // The parent's row gone: parentId set to null, removedPaths (written only for derived versions) still there.
    const id = await submit(factory(["--task", "detect", "--archive", "zip"]), { removedPaths: ["images/train/img_0000.jpg"] });
    const v = await settled(id);
    expect(v.status).toBe("INVALID");
    expect(datasetReportSchema.parse(v.report).fatal).toBe("Its parent version was deleted before validation");
    expect(v.failureReason).toBe("Its parent version was deleted before validation");
    expect(await db.datasetItem.count({ where: { versionId: id } })).toBe(0);
  });

  it("a validation the queue gave up on, its version still VALIDATING, is queued again by the reconciler", async () => {
    const id = await submit(factory(["--task", "detect", "--archive", "zip"]), { queue: false });
    // An entry under the version's job id that fails for good (its payload is refused) without touching the row.
    const broken = await trainingQueue.add(VALIDATE_DATASET_JOB, { versionId: "" }, { jobId: validationJobId(id), attempts: 1 });
    await waitFor(async () => (await broken.isFailed()) || undefined, 20_000, "the broken entry failed");
    expect((await db.datasetVersion.findUniqueOrThrow({ where: { id } })).status).toBe("VALIDATING");
    const { requeued } = await reconcileQueue({ graceMs: 0 });
    expect(requeued).toContain(id);
    const v = await settled(id);
    expect(v.status).toBe("READY");
  });
});
