// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the web's typecheck needs the root's declaration of s3rver
/// <reference path="../../../test/s3rver.d.ts" />
import { randomBytes } from "node:crypto";
import {
  CreateBucketCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  DATASET_UPLOAD_PART_BYTES,
  VALIDATE_DATASET_JOB,
  validationJobId,
  type CreateVersionAnswer,
  type DatasetDetail,
  type UploadState,
} from "@wyolo/contracts";
import { startS3rver } from "../../../test/integration/s3rver";

// The dataset API against a real object store (s3rver), Postgres and Redis: archives go straight to the
// store through presigned multipart URLs, PUT from this process as a browser or the CLI would.
const s3 = await startS3rver();
const MAX_UPLOAD = 2 * DATASET_UPLOAD_PART_BYTES + 1000;
const QUOTA = 4 * DATASET_UPLOAD_PART_BYTES;
Object.assign(process.env, s3.env, {
  DATASET_MAX_UPLOAD_BYTES: String(MAX_UPLOAD),
  DATASET_TEAM_QUOTA_BYTES: String(QUOTA),
});

const { db } = await import("@/server/db");
const { trainingQueue } = await import("@/server/queue");
const teamDatasets = await import("@/app/api/v1/teams/[teamId]/datasets/route");
const trainable = await import("@/app/api/v1/teams/[teamId]/datasets/versions/route");
const datasetRoute = await import("@/app/api/v1/datasets/[datasetId]/route");
const versionsRoute = await import("@/app/api/v1/datasets/[datasetId]/versions/route");
const versionRoute = await import("@/app/api/v1/dataset-versions/[versionId]/route");
const uploadRoute = await import("@/app/api/v1/dataset-versions/[versionId]/upload/route");
const partsRoute = await import("@/app/api/v1/dataset-versions/[versionId]/upload/parts/route");
const completeRoute = await import("@/app/api/v1/dataset-versions/[versionId]/upload/complete/route");
const itemsRoute = await import("@/app/api/v1/dataset-versions/[versionId]/items/route");
const diffRoute = await import("@/app/api/v1/dataset-versions/[versionId]/diff/route");
const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("../../../test/integration/helpers");

const client = new S3Client({
  endpoint: s3.env.S3_ENDPOINT,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});

type Cookie = string;
let admin: Cookie, member: Cookie, viewer: Cookie, outsider: Cookie;
let teamId: string, otherTeamId: string, projectId: string;

beforeAll(async () => {
  await client.send(new CreateBucketCommand({ Bucket: s3.env.S3_BUCKET }));
  const users = await Promise.all(["admin", "member", "viewer", "outsider"].map((name) => createUser({ name })));
  [admin, member, viewer, outsider] = (await Promise.all(users.map((u) => sessionCookie(u)))) as [string, string, string, string];
  const team = await createTeamWith([
    { userId: users[0]!.id, role: "ADMIN" },
    { userId: users[1]!.id, role: "MEMBER" },
    { userId: users[2]!.id, role: "VIEWER" },
  ]);
  teamId = team.id;
  otherTeamId = (await createTeamWith([{ userId: users[3]!.id, role: "OWNER" }])).id;
  projectId = (await db.project.create({ data: { teamId, name: "Main", slug: "main" }, select: { id: true } })).id;
});

afterAll(async () => {
  await trainingQueue.obliterate({ force: true }).catch(() => {});
  await s3.close();
});

async function createDataset(name: string, cookie = member, team = teamId): Promise<string> {
  const res = await call(teamDatasets.POST, { params: { teamId: team }, cookie, body: { name } });
  expect(res.status).toBe(201);
  return res.body.dataset.id;
}

/** PUTs one part to its presigned URL, as a browser does (no credentials, only the URL); answers the ETag. */
async function putPart(url: string, bytes: Buffer): Promise<string> {
  const res = await fetch(url, { method: "PUT", body: new Uint8Array(bytes) });
  expect(res.status).toBe(200);
  return res.headers.get("etag")!;
}

const partOf = (archive: Buffer, n: number) => archive.subarray((n - 1) * DATASET_UPLOAD_PART_BYTES, n * DATASET_UPLOAD_PART_BYTES);

/**
 * The Content-Length a part URL was signed with: the URL is signed again, at its own date, for each
 * candidate length, and the one whose signature matches is it (s3rver does not check V4 signatures;
 * S3 and MinIO do, and refuse a PUT of any other length). null: none of them.
 */
async function signedLength(url: string, key: string, uploadId: string, candidates: number[]): Promise<number | null> {
  const q = new URL(url).searchParams;
  expect(q.get("X-Amz-SignedHeaders")!.split(";")).toContain("content-length");
  // No checksum of the (absent) body is signed in: S3 would refuse every real part against it.
  expect([...q.keys()].filter((k) => k.toLowerCase().startsWith("x-amz-checksum"))).toEqual([]);
  const signer = new S3Client({
    endpoint: s3.env.S3_ENDPOINT,
    region: "us-east-1",
    forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    requestChecksumCalculation: "WHEN_REQUIRED",
  });
  const date = q.get("X-Amz-Date")!.replace(/^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/, "$1-$2-$3T$4:$5:$6Z");
  for (const length of candidates) {
    const again = await getSignedUrl(
      signer,
      new UploadPartCommand({
        Bucket: s3.env.S3_BUCKET,
        Key: key,
        UploadId: uploadId,
        PartNumber: Number(q.get("partNumber")),
        ContentLength: length,
      }),
      { expiresIn: Number(q.get("X-Amz-Expires")), signingDate: new Date(date) },
    );
    if (new URL(again).searchParams.get("X-Amz-Signature") === q.get("X-Amz-Signature")) return length;
  }
  return null;
}

async function startUpload(datasetId: string, archive: Buffer, name = "shapes.zip", cookie = member) {
  const res = await call(versionsRoute.POST, { params: { datasetId }, cookie, body: { file: { name, size: archive.length } } });
  return res as { status: number; body: CreateVersionAnswer & { error?: { fields?: Record<string, string[]> } } };
}

describe("uploads through presigned multipart, straight to the object store", () => {
  it("uploads an archive in parts, completes it, and queues its validation", async () => {
    const datasetId = await createDataset("shapes");
    const archive = randomBytes(DATASET_UPLOAD_PART_BYTES + 12_345);
    const started = await startUpload(datasetId, archive);
    expect(started.status).toBe(201);
    const { version, upload } = started.body;
    expect(version).toMatchObject({ version: 1, status: "UPLOADING", label: "shapes@v1", ref: "dataset:shapes@v1" });
    expect(upload).toMatchObject({ partCount: 2, partSize: DATASET_UPLOAD_PART_BYTES, size: archive.length, uploaded: [], done: false });
    expect(upload!.parts.map((p) => p.partNumber)).toEqual([1, 2]);

    // Each URL is signed for its part's length only: a MEMBER cannot PUT more than the quota counted.
    const open = await db.datasetVersion.findUniqueOrThrow({ where: { id: version.id }, select: { uploadKey: true, uploadId: true } });
    const lengths = [DATASET_UPLOAD_PART_BYTES, 12_345, 5 * 1024 ** 3];
    expect(await signedLength(upload!.parts[0]!.url, open.uploadKey!, open.uploadId!, lengths)).toBe(DATASET_UPLOAD_PART_BYTES);
    expect(await signedLength(upload!.parts[1]!.url, open.uploadKey!, open.uploadId!, lengths)).toBe(12_345);

    const etags = await Promise.all(
      upload!.parts.map(async (p) => ({ partNumber: p.partNumber, etag: await putPart(p.url, partOf(archive, p.partNumber)) })),
    );
    const done = await call(completeRoute.POST, { params: { versionId: version.id }, cookie: member, body: { parts: etags } });
    expect(done.status).toBe(200);
    expect(done.body.version.status).toBe("VALIDATING");

    // The archive in the store is the bytes sent, whole; the validation job waits on the training queue.
    const row = await db.datasetVersion.findUniqueOrThrow({ where: { id: version.id }, select: { uploadKey: true, status: true } });
    const stored = await client.send(new GetObjectCommand({ Bucket: s3.env.S3_BUCKET, Key: row.uploadKey! }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(archive)).toBe(true);
    const job = await trainingQueue.getJob(validationJobId(version.id));
    expect(job?.name).toBe(VALIDATE_DATASET_JOB);
    expect(job?.data).toEqual({ versionId: version.id });

    // Completing again (a client that lost the answer) is safe: still VALIDATING, still one job.
    const again = await call(completeRoute.POST, { params: { versionId: version.id }, cookie: member, body: {} });
    expect(again.status).toBe(200);
    expect(again.body.version.status).toBe("VALIDATING");
    const state = await call(uploadRoute.GET, { params: { versionId: version.id }, cookie: member });
    expect(state.body.upload).toMatchObject({ done: true, status: "VALIDATING", uploaded: null });

    // Browsers may PUT from the dashboard's origin and read the ETag.
    const cors = await client.send(new GetBucketCorsCommand({ Bucket: s3.env.S3_BUCKET }));
    expect(cors.CORSRules).toEqual([
      expect.objectContaining({
        AllowedOrigins: ["http://localhost:3000"],
        AllowedMethods: expect.arrayContaining(["PUT"]),
        ExposeHeaders: ["ETag"],
      }),
    ]);
  });

  it("resumes an interrupted upload: fresh URLs for the missing part, then completes with every ETag", async () => {
    const datasetId = await createDataset("resumed");
    const archive = randomBytes(2 * DATASET_UPLOAD_PART_BYTES + 100);
    const { body } = await startUpload(datasetId, archive, "resumed.tar.gz");
    const versionId = body.version.id;
    expect(body.upload!.partCount).toBe(3);
    // Parts 1 and 2 went through; the page was closed before part 3.
    const kept = [
      { partNumber: 1, etag: await putPart(body.upload!.parts[0]!.url, partOf(archive, 1)) },
      { partNumber: 2, etag: await putPart(body.upload!.parts[1]!.url, partOf(archive, 2)) },
    ];

    // After a reload: where the upload stands (s3rver cannot list parts: null, the client resumes from what it kept).
    const state = await call(uploadRoute.GET, { params: { versionId }, cookie: member });
    expect(state.status).toBe(200);
    const upload = state.body.upload as UploadState;
    expect(upload).toMatchObject({ done: false, status: "UPLOADING", partCount: 3, size: archive.length, uploaded: null });

    // Completing too early names the missing part.
    const early = await call(completeRoute.POST, { params: { versionId }, cookie: member, body: { parts: kept } });
    expect(early.status).toBe(422);
    expect(early.body.error.fields.parts[0]).toMatch(/Parts missing: 3/);

    const signed = await call(partsRoute.POST, { params: { versionId }, cookie: member, body: { partNumbers: [3] } });
    expect(signed.status).toBe(200);
    expect(signed.body.parts).toHaveLength(1);
    const beyond = await call(partsRoute.POST, { params: { versionId }, cookie: member, body: { partNumbers: [4] } });
    expect(beyond.status).toBe(422);
    expect(beyond.body.error.fields.partNumbers[0]).toMatch(/3 parts; no part 4/);

    const last = { partNumber: 3, etag: await putPart(signed.body.parts[0].url, partOf(archive, 3)) };
    const done = await call(completeRoute.POST, { params: { versionId }, cookie: member, body: { parts: [...kept, last] } });
    expect(done.status).toBe(200);
    const row = await db.datasetVersion.findUniqueOrThrow({ where: { id: versionId }, select: { uploadKey: true } });
    const stored = await client.send(new GetObjectCommand({ Bucket: s3.env.S3_BUCKET, Key: row.uploadKey! }));
    expect(Buffer.from(await stored.Body!.transformToByteArray()).equals(archive)).toBe(true);
  });

  it("refuses a completion whose bytes differ in size from the declared upload (it counted for the quota): the version goes", async () => {
    const datasetId = await createDataset("liar");
    const { body } = await startUpload(datasetId, Buffer.alloc(1000));
    // S3 refuses this PUT (its URL is signed for 1000 bytes); s3rver does not check V4 signatures, so the
    // size check at completion is what is left here.
    const etag = await putPart(body.upload!.parts[0]!.url, randomBytes(5000));
    const row = await db.datasetVersion.findUniqueOrThrow({ where: { id: body.version.id }, select: { uploadKey: true } });
    const res = await call(completeRoute.POST, {
      params: { versionId: body.version.id },
      cookie: member,
      body: { parts: [{ partNumber: 1, etag }] },
    });
    expect(res.status).toBe(422);
    expect(res.body.error.fields.parts[0]).toMatch(/5000 bytes; the upload declared 1000\. The version was removed: start a new upload/);
    // No UPLOADING version is left with a spent upload id, nor its archive in the store.
    expect(await db.datasetVersion.count({ where: { id: body.version.id } })).toBe(0);
    await expect(client.send(new GetObjectCommand({ Bucket: s3.env.S3_BUCKET, Key: row.uploadKey! }))).rejects.toThrow();
    const again = await startUpload(datasetId, Buffer.alloc(1000));
    expect(again.status).toBe(201);
  });

  it("cancels an upload: the UPLOADING version goes", async () => {
    const datasetId = await createDataset("cancelled");
    const { body } = await startUpload(datasetId, Buffer.alloc(10));
    expect((await call(uploadRoute.DELETE, { params: { versionId: body.version.id }, cookie: member })).status).toBe(204);
    expect(await db.datasetVersion.count({ where: { id: body.version.id } })).toBe(0);
  });
});

describe("limits from env", () => {
  it("refuses an archive over DATASET_MAX_UPLOAD_BYTES (413) and one over the team's quota (422), on file.size", async () => {
    // A team of its own, so the quota starts empty.
    const user = await createUser({ name: "quota" });
    const cookie = await sessionCookie(user);
    const team = (await createTeamWith([{ userId: user.id, role: "MEMBER" }])).id;
    const datasetId = await createDataset("limits", cookie, team);
    const upload = (size: number) => call(versionsRoute.POST, { params: { datasetId }, cookie, body: { file: { name: "a.zip", size } } });
    const big = await upload(MAX_UPLOAD + 1);
    expect(big.status).toBe(413);
    expect(big.body.error.fields["file.size"][0]).toMatch(/DATASET_MAX_UPLOAD_BYTES/);

    // Uploads in flight count at their declared size: the first fits, the second would pass the quota.
    const first = await upload(MAX_UPLOAD);
    expect(first.status).toBe(201);
    expect((await call(teamDatasets.GET, { params: { teamId: team }, cookie })).body.usage).toEqual({
      usedBytes: MAX_UPLOAD,
      quotaBytes: QUOTA,
      maxUploadBytes: MAX_UPLOAD,
    });
    const over = await upload(MAX_UPLOAD);
    expect(over.status).toBe(422);
    expect(over.body.error.fields["file.size"][0]).toMatch(/DATASET_TEAM_QUOTA_BYTES/);
    // Cancelling frees it again.
    expect((await call(uploadRoute.DELETE, { params: { versionId: first.body.version.id }, cookie })).status).toBe(204);
    expect((await upload(MAX_UPLOAD)).status).toBe(201);
  });

  it("names bad fields: an archive of another kind, a parent that is not READY", async () => {
    const datasetId = await createDataset("fields");
    const rar = await call(versionsRoute.POST, { params: { datasetId }, cookie: member, body: { file: { name: "a.rar", size: 10 } } });
    expect(rar.status).toBe(422);
    expect(Object.keys(rar.body.error.fields)).toEqual(["file.name"]);
    const noParent = await call(versionsRoute.POST, {
      params: { datasetId },
      cookie: member,
      body: { parent: 7, removedPaths: ["a.jpg"] },
    });
    expect(noParent.status).toBe(422);
    expect(noParent.body.error.fields.parent[0]).toMatch(/no version 7/);
  });
});

describe("teams and roles", () => {
  let datasetId: string;
  let versionId: string;

  beforeAll(async () => {
    datasetId = await createDataset("private");
    versionId = (await startUpload(datasetId, Buffer.alloc(10))).body.version.id;
  });

  it("another team's datasets and versions answer 404, naming nothing", async () => {
    for (const res of [
      await call(datasetRoute.GET, { params: { datasetId }, cookie: outsider }),
      await call(versionRoute.GET, { params: { versionId }, cookie: outsider }),
      await call(uploadRoute.GET, { params: { versionId }, cookie: outsider }),
      await call(itemsRoute.GET, { params: { versionId }, cookie: outsider }),
      await call(versionsRoute.POST, { params: { datasetId }, cookie: outsider, body: { file: { name: "x.zip", size: 10 } } }),
      await call(teamDatasets.GET, { params: { teamId }, cookie: outsider }),
    ]) {
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain("private");
    }
    // Their own list does not show it either.
    expect((await call(teamDatasets.GET, { params: { teamId: otherTeamId }, cookie: outsider })).body.datasets).toEqual([]);
  });

  it("a VIEWER reads but cannot create, upload or cancel (403); a MEMBER cannot archive or delete (403)", async () => {
    expect((await call(datasetRoute.GET, { params: { datasetId }, cookie: viewer })).status).toBe(200);
    const detail = (await call(datasetRoute.GET, { params: { datasetId }, cookie: viewer })).body.dataset as DatasetDetail;
    expect(detail).toMatchObject({ canUpload: false, canDelete: false });
    expect((await call(teamDatasets.POST, { params: { teamId }, cookie: viewer, body: { name: "nope" } })).status).toBe(403);
    expect(
      (await call(versionsRoute.POST, { params: { datasetId }, cookie: viewer, body: { file: { name: "x.zip", size: 10 } } })).status,
    ).toBe(403);
    expect((await call(partsRoute.POST, { params: { versionId }, cookie: viewer, body: { partNumbers: [1] } })).status).toBe(403);
    expect((await call(uploadRoute.DELETE, { params: { versionId }, cookie: viewer })).status).toBe(403);
    expect((await call(versionRoute.PATCH, { params: { versionId }, cookie: member, body: { archived: true } })).status).toBe(403);
    expect((await call(versionRoute.DELETE, { params: { versionId }, cookie: member })).status).toBe(403);
  });

  it("dataset names are unique in a team (409 on name), not across teams", async () => {
    const dup = await call(teamDatasets.POST, { params: { teamId }, cookie: member, body: { name: "private" } });
    expect(dup.status).toBe(409);
    expect(dup.body.error.fields.name).toBeDefined();
    expect((await call(teamDatasets.POST, { params: { teamId: otherTeamId }, cookie: outsider, body: { name: "private" } })).status).toBe(
      201,
    );
  });
});

/** A READY version as validation leaves it (rows only: the validator is Part G1's and has its own test). */
async function readyVersion(
  datasetId: string,
  version: number,
  files: { path: string; sha: string; classIds?: number[]; errors?: number }[],
  parentId?: string,
) {
  return db.datasetVersion.create({
    data: {
      datasetId,
      version,
      status: "READY",
      task: "detect",
      parentId,
      classNames: ["circle", "square"],
      manifestHash: randomBytes(32).toString("hex"),
      fileCount: files.length,
      totalBytes: BigInt(files.length * 10),
      stats: {
        imagesPerSplit: { train: files.length },
        instancesPerClass: [
          { id: 0, name: "circle", count: files.filter((f) => f.classIds?.includes(0)).length, perSplit: {} },
          { id: 1, name: "square", count: files.filter((f) => f.classIds?.includes(1)).length, perSplit: {} },
        ],
        corruptImages: 0,
        formats: { jpeg: files.length },
        imageWidths: { edges: [0, 64], counts: [files.length] },
        imageHeights: { edges: [0, 64], counts: [files.length] },
        backgroundImages: 0,
      },
      report: { ok: true, task: "detect", counts: {}, issues: [] },
      items: {
        create: files.map((f) => ({
          path: f.path,
          sha256: f.sha.repeat(64).slice(0, 64),
          size: 10n,
          kind: "image",
          split: "train",
          width: 64,
          height: 64,
          labels: (f.classIds ?? []).map((c) => ({ c, box: [0.5, 0.5, 0.1, 0.1] })),
          classIds: f.classIds ?? [],
          errorCount: f.errors ?? 0,
        })),
      },
    },
    select: { id: true },
  });
}

describe("versions: reads, diff, training from one, archive and delete rules", () => {
  let datasetId: string;
  let v1: string, v2: string;

  beforeAll(async () => {
    datasetId = await createDataset("boxes");
    v1 = (
      await readyVersion(datasetId, 1, [
        { path: "images/train/a.jpg", sha: "a", classIds: [0] },
        { path: "images/train/b.jpg", sha: "b", classIds: [1] },
      ])
    ).id;
    v2 = (
      await readyVersion(
        datasetId,
        2,
        [
          { path: "images/train/a.jpg", sha: "c", classIds: [0, 1], errors: 2 },
          { path: "images/train/d.jpg", sha: "d", classIds: [0] },
        ],
        v1,
      )
    ).id;
  });

  it("pages a version's images with labels and presigned URLs that fetch the stored file, filtered by class and errors", async () => {
    const key = `datasets/${teamId}/blobs/${"d".repeat(64)}`;
    await client.send(new PutObjectCommand({ Bucket: s3.env.S3_BUCKET, Key: key, Body: "jpeg bytes" }));
    const page = await call(itemsRoute.GET, { params: { versionId: v2 }, cookie: viewer, query: "limit=1" });
    expect(page.status).toBe(200);
    expect(page.body.items.map((i: { path: string }) => i.path)).toEqual(["images/train/a.jpg"]);
    expect(page.body.classNames).toEqual(["circle", "square"]);
    const next = await call(itemsRoute.GET, { params: { versionId: v2 }, cookie: viewer, query: `limit=1&cursor=${page.body.nextCursor}` });
    expect(next.body.items[0]).toMatchObject({ path: "images/train/d.jpg", labels: [{ c: 0, box: [0.5, 0.5, 0.1, 0.1] }] });
    expect(next.body.nextCursor).toBeNull();
    expect(await (await fetch(next.body.items[0].url)).text()).toBe("jpeg bytes");
    const url = new URL(next.body.items[0].url);
    expect(Number(url.searchParams.get("X-Amz-Expires"))).toBeLessThanOrEqual(300);

    const errors = await call(itemsRoute.GET, { params: { versionId: v2 }, cookie: viewer, query: "errors=1" });
    expect(errors.body.items.map((i: { path: string }) => i.path)).toEqual(["images/train/a.jpg"]);
    const squares = await call(itemsRoute.GET, { params: { versionId: v1 }, cookie: viewer, query: "classId=1" });
    expect(squares.body.items.map((i: { path: string }) => i.path)).toEqual(["images/train/b.jpg"]);
  });

  it("diffs two versions: files by content, instances per class", async () => {
    const res = await call(diffRoute.GET, { params: { versionId: v2 }, cookie: viewer, query: "against=1" });
    expect(res.status).toBe(200);
    expect(res.body.files).toMatchObject({
      added: ["images/train/d.jpg"],
      removed: ["images/train/b.jpg"],
      changed: ["images/train/a.jpg"],
      counts: { added: 1, removed: 1, changed: 1, unchanged: 0 },
      truncated: false,
    });
    expect(res.body.classes).toEqual([
      { id: 0, name: "circle", from: 1, to: 2, delta: 1 },
      { id: 1, name: "square", from: 1, to: 1, delta: 0 },
    ]);
    expect((await call(diffRoute.GET, { params: { versionId: v2 }, cookie: viewer, query: "against=9" })).status).toBe(422);
  });

  it("makes a version from a parent without an archive: VALIDATING at once, queued", async () => {
    const res = await call(versionsRoute.POST, {
      params: { datasetId },
      cookie: member,
      body: { parent: 2, removedPaths: ["images/train/d.jpg"] },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ version: { version: 3, status: "VALIDATING", parentVersion: 2 }, upload: null });
    expect(await trainingQueue.getJob(validationJobId(res.body.version.id))).toBeDefined();
    const row = await db.datasetVersion.findUniqueOrThrow({ where: { id: res.body.version.id }, select: { removedPaths: true } });
    expect(row.removedPaths).toEqual(["images/train/d.jpg"]);
  });

  it("a job names dataset:<name>@latest or @vN: the exact version is stored and recorded; unknown, archived or other teams' versions are 422 on train.data", async () => {
    const submit = (data: string, cookie = member) =>
      call(jobsRoute.POST, { params: { projectId }, cookie, body: { config: { model: "yolo11n.pt", train: { data, epochs: 1 } } } });
    const latest = await submit("dataset:boxes@latest");
    expect(latest.status).toBe(201);
    const job = await db.trainingJob.findUniqueOrThrow({
      where: { id: latest.body.job.id },
      select: { datasetVersionId: true, config: true },
    });
    expect(job.datasetVersionId).toBe(v2);
    expect((job.config as { train: { data: string } }).train.data).toBe("dataset:boxes@v2");

    await createDataset("elsewhere", outsider, otherTeamId);
    for (const [data, message] of [
      ["dataset:elsewhere@latest", /no dataset named elsewhere/],
      ["dataset:boxes@v9", /no version 9/],
      ["dataset:nothing@v1", /no dataset named nothing/],
      ["dataset:boxes@v3", /VALIDATING/],
    ] as const) {
      const res = await submit(data);
      expect(res.status).toBe(422);
      expect(res.body.error.fields["config.train.data"][0]).toMatch(message);
    }
    // The picker lists v2 and v1 (newest first); archived, v1 leaves it and is refused.
    const picker = await call(trainable.GET, { params: { teamId }, cookie: viewer });
    expect(
      picker.body.versions
        .filter((x: { name: string }) => x.name === "boxes")
        .map((x: { version: number; latest: boolean }) => [x.version, x.latest]),
    ).toEqual([
      [2, true],
      [1, false],
    ]);
    expect((await call(versionRoute.PATCH, { params: { versionId: v1 }, cookie: admin, body: { archived: true } })).status).toBe(200);
    const archived = await submit("dataset:boxes@v1");
    expect(archived.body.error.fields["config.train.data"][0]).toMatch(/archived/);
    await call(versionRoute.PATCH, { params: { versionId: v1 }, cookie: admin, body: { archived: false } });
  });

  it("a version a job used cannot be deleted (409: archive it); an unused one can, by an ADMIN", async () => {
    const used = await call(versionRoute.DELETE, { params: { versionId: v2 }, cookie: admin });
    expect(used.status).toBe(409);
    expect(used.body.error.message).toMatch(/boxes@v2 \(1 job\).*archive/);
    expect((await call(datasetRoute.DELETE, { params: { datasetId }, cookie: admin })).status).toBe(409);

    const detail = (await call(versionRoute.GET, { params: { versionId: v2 }, cookie: viewer })).body.version;
    expect(detail).toMatchObject({ jobCount: 1, jobs: [expect.objectContaining({ project: expect.objectContaining({ slug: "main" }) })] });

    expect((await call(versionRoute.DELETE, { params: { versionId: v1 }, cookie: admin })).status).toBe(204);
    expect(await db.datasetItem.count({ where: { versionId: v1 } })).toBe(0);
    const audit = await db.auditLog.findMany({ where: { teamId, action: { startsWith: "dataset." } }, select: { action: true } });
    expect(new Set(audit.map((a) => a.action))).toEqual(
      new Set([
        "dataset.create",
        "dataset.version.create",
        "dataset.version.upload",
        "dataset.version.abort",
        "dataset.version.archive",
        "dataset.version.unarchive",
        "dataset.version.delete",
      ]),
    );
  });
});

describe("a version another is being made from", () => {
  it("cannot be deleted while its child is UPLOADING or VALIDATING (409); once the child is over, it can; the dataset goes with both", async () => {
    const datasetId = await createDataset("parents");
    const v1 = (await readyVersion(datasetId, 1, [{ path: "images/train/a.jpg", sha: "e", classIds: [0] }])).id;

    // An UPLOADING child: deleting v1 would leave it without v1's files.
    const child = await call(versionsRoute.POST, {
      params: { datasetId },
      cookie: member,
      body: { parent: 1, file: { name: "more.zip", size: 10 } },
    });
    expect(child.status).toBe(201);
    const uploading = await call(versionRoute.DELETE, { params: { versionId: v1 }, cookie: admin });
    expect(uploading.status).toBe(409);
    expect(uploading.body.error.message).toBe("parents@v2 is being made from it; wait or cancel it");
    expect(await db.datasetVersion.count({ where: { id: v1 } })).toBe(1);
    expect((await call(uploadRoute.DELETE, { params: { versionId: child.body.version.id }, cookie: member })).status).toBe(204);

    // A VALIDATING child, the same until it is over.
    const validating = await call(versionsRoute.POST, {
      params: { datasetId },
      cookie: member,
      body: { parent: 1, removedPaths: ["images/train/a.jpg"] },
    });
    expect(validating.body.version).toMatchObject({ version: 2, status: "VALIDATING" });
    const refused = await call(versionRoute.DELETE, { params: { versionId: v1 }, cookie: admin });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toBe("parents@v2 is being made from it; wait or cancel it");

    // The whole dataset goes, children with it.
    expect((await call(datasetRoute.DELETE, { params: { datasetId }, cookie: admin })).status).toBe(204);
    expect(await db.datasetVersion.count({ where: { datasetId } })).toBe(0);
  });

  it("can be deleted once its child is over (INVALID here)", async () => {
    const datasetId = await createDataset("grown");
    const v1 = (await readyVersion(datasetId, 1, [{ path: "images/train/a.jpg", sha: "f", classIds: [0] }])).id;
    const made = await call(versionsRoute.POST, {
      params: { datasetId },
      cookie: member,
      body: { parent: 1, removedPaths: ["images/train/a.jpg"] },
    });
    await db.datasetVersion.update({ where: { id: made.body.version.id }, data: { status: "INVALID" } });
    expect((await call(versionRoute.DELETE, { params: { versionId: v1 }, cookie: admin })).status).toBe(204);
  });
});

describe("the CLI (wyolo dataset …) against these routes and the object store", () => {
  it("creates a dataset, uploads a folder in parts (packed with tar), lists and shows it", async () => {
    const { loadApiRoutes } = await import("./api-world");
    const { createTestToken } = await import("./tokens-helper");
    const routes = await loadApiRoutes();
    const matchers = routes
      .filter((r) => !r.params.some((p) => p.catchAll))
      .map((r) => ({ route: r, re: new RegExp(`^/api/v1/${r.pattern.replace(/\[([^\]]+)\]/g, "(?<$1>[^/]+)")}$`) }));
    // Calls to the dashboard go to the route handlers in this process; part PUTs go to s3rver for real.
    const fetchVia = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (url.origin !== "http://wyolo.test") return fetch(input, init);
      const m = matchers.map((x) => ({ ...x, hit: x.re.exec(url.pathname) })).find((x) => x.hit);
      const handler = m?.route.handlers[(init?.method ?? "GET") as "GET"];
      if (!m || !handler) return new Response(JSON.stringify({ error: { message: "no route" } }), { status: 404 });
      return handler(new Request(url, init), { params: Promise.resolve({ ...m.hit!.groups }) });
    }) as typeof fetch;
    const user = await db.membership.findFirstOrThrow({ where: { teamId, role: "MEMBER" }, select: { userId: true } });
    const { token } = await createTestToken({ userId: user.userId, scopes: ["read", "datasets:write"] });
    const { mkdtempSync, mkdirSync, writeFileSync } = await import("node:fs");
    const os = await import("node:os");
    const path = await import("node:path");
    const home = mkdtempSync(path.join(os.tmpdir(), "wyolo-cli-"));
    const folder = path.join(home, "circles");
    mkdirSync(path.join(folder, "images/train"), { recursive: true });
    writeFileSync(path.join(folder, "data.yaml"), "names: [circle]\ntrain: images/train\n");
    writeFileSync(path.join(folder, "images/train/a.jpg"), randomBytes(1000));
    const cliPath = "../../../packages/cli/src/cli.ts";
    const { run } = (await import(/* @vite-ignore */ cliPath)) as { run: (argv: string[], io: object) => Promise<number> };
    const team = await db.team.findUniqueOrThrow({ where: { id: teamId }, select: { slug: true } });
    const wyolo = async (...argv: string[]) => {
      let out = "";
      let err = "";
      const code = await run([...argv], {
        stdout: { write: (s: string) => (out += s) },
        stderr: { write: (s: string) => (err += s) },
        stdin: process.stdin,
        env: { HOME: home, WYOLO_URL: "http://wyolo.test", WYOLO_TOKEN: token },
        cwd: home,
        fetch: fetchVia,
      });
      return { code, out, err };
    };
    expect(await wyolo("dataset", "create", "cli-circles", "--team", team.slug)).toMatchObject({ code: 0 });
    const up = await wyolo("dataset", "upload", "cli-circles", "circles", "--team", team.slug, "--json");
    expect(up.err).toBe("");
    expect(up.code).toBe(0);
    const version = JSON.parse(up.out).version;
    expect(version).toMatchObject({ ref: "dataset:cli-circles@v1", status: "VALIDATING" });
    const row = await db.datasetVersion.findUniqueOrThrow({ where: { id: version.id }, select: { uploadKey: true, uploadName: true } });
    expect(row.uploadName).toBe("circles.tar.gz");
    const stored = await client.send(new GetObjectCommand({ Bucket: s3.env.S3_BUCKET, Key: row.uploadKey! }));
    expect((await stored.Body!.transformToByteArray()).subarray(0, 2)).toEqual(new Uint8Array([0x1f, 0x8b])); // gzip
    const show = await wyolo("dataset", "show", "cli-circles", "--team", team.slug);
    expect(show.out).toMatch(/dataset:cli-circles@v1\s+VALIDATING/);
    const ls = await wyolo("dataset", "ls", "--team", team.slug);
    expect(ls.out).toMatch(/cli-circles\s+1\s/);
    // A member without the datasets:write scope is refused with the server's words.
    const { token: readOnly } = await createTestToken({ userId: user.userId, scopes: ["read"] });
    const refused = await run(["dataset", "create", "nope", "--team", team.slug], {
      stdout: { write: () => true },
      stderr: { write: () => true },
      stdin: process.stdin,
      env: { HOME: home, WYOLO_URL: "http://wyolo.test", WYOLO_TOKEN: readOnly },
      cwd: home,
      fetch: fetchVia,
    });
    expect(refused).toBe(3);
  });
});
