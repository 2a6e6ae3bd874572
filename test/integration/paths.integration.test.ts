import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3rver } from "./s3rver";

// Paths a job names are confined (issue 9): the web app refuses what it can see, the worker
// re-checks after realpath (and refuses rows that never went through the web app), and another
// job's weights are reached only as `job:<id>/best.pt`, fetched from a real S3 server (s3rver).
const s3 = await startS3rver();
const S3 = s3.env;
Object.assign(process.env, S3);

const { db } = await import("@/server/db");
const { trainingQueue } = await import("@/server/queue");
const { enqueueTraining } = await import("@/server/jobs/enqueue");
const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
const retryRoute = await import("@/app/api/v1/jobs/[jobId]/retry/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("./helpers");
const { startWorker, waitFor } = await import("./worker-harness");

const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-paths-"));
const datasets = path.join(dataDir, "datasets");
const outside = path.join(dataDir, "elsewhere");
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

let alice: { id: string }; // MEMBER of team A
let both: { id: string }; // MEMBER of team A and of team B
let aliceCookie: string;
let bobCookie: string; // MEMBER of team B only
let bothCookie: string;
let projectA: string;
let projectA2: string;
let projectB: string;
let worker: ReturnType<typeof startWorker>;

beforeAll(async () => {
  mkdirSync(path.join(datasets, "shapes"), { recursive: true });
  writeFileSync(path.join(datasets, "shapes", "data.yaml"), "names: {0: square}\n");
  mkdirSync(outside, { recursive: true });
  writeFileSync(path.join(outside, "data.yaml"), "names: {0: secret}\n");
  // Planted inside DATASETS_DIR, pointing out of it: only a realpath check sees where it goes.
  symlinkSync(outside, path.join(datasets, "leak"));

  alice = await createUser();
  const bob = await createUser();
  both = await createUser();
  const teamA = await createTeamWith([
    { userId: alice.id, role: "MEMBER" },
    { userId: both.id, role: "MEMBER" },
  ]);
  const teamB = await createTeamWith([
    { userId: bob.id, role: "MEMBER" },
    { userId: both.id, role: "MEMBER" },
  ]);
  projectA = (await db.project.create({ data: { teamId: teamA.id, name: "A", slug: "a" } })).id;
  projectA2 = (await db.project.create({ data: { teamId: teamA.id, name: "A2", slug: "a2" } })).id;
  projectB = (await db.project.create({ data: { teamId: teamB.id, name: "B", slug: "b" } })).id;
  aliceCookie = await sessionCookie(alice);
  bobCookie = await sessionCookie(bob);
  bothCookie = await sessionCookie(both);
  worker = startWorker("paths", { ...S3, WORKER_DATA_DIR: dataDir, DATASETS_DIR: datasets, ARTIFACT_CHECKPOINT_INTERVAL_MS: "0" });
  await worker.ready;
});

afterAll(async () => {
  await worker?.stop();
  await trainingQueue.obliterate({ force: true });
  await s3.close();
});

const config = (patch: { model?: string; data?: string; pretrained?: string | boolean; task?: string } = {}) => ({
  model: patch.model ?? "yolov8n.yaml",
  ...(patch.task ? { task: patch.task } : {}),
  train: { data: patch.data ?? "shapes/data.yaml", epochs: 2, ...("pretrained" in patch ? { pretrained: patch.pretrained } : {}) },
  metadata: { fake: { delayMs: 20 } },
});
const submit = (cookie: string, projectId: string, cfg: unknown, name?: string) =>
  call(jobsRoute.POST, { cookie, params: { projectId }, body: { ...(name ? { name } : {}), config: cfg } });
const ended = (id: string) =>
  waitFor(
    async () => {
      const j = await db.trainingJob.findUniqueOrThrow({ where: { id } });
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    },
    20_000,
    `job ${id} to end`,
  );
const counts = async () => [
  await db.trainingJob.count(),
  await db.jobEvent.count(),
  await db.auditLog.count(),
  await trainingQueue.count(),
];

/** A finished job of team A with its weights in the object store. */
let sourceJob: string;
async function finishedSourceJob(): Promise<string> {
  if (sourceJob) return sourceJob;
  const res = await submit(aliceCookie, projectA, config({ model: "yolov8n-seg.yaml" }), "source run");
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const done = await ended(res.body.job.id);
  expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
  sourceJob = done.id;
  return sourceJob;
}

describe("the web app refuses paths outside the roots", () => {
  it.each([
    ["dataset with ..", { data: "shapes/../../../etc/passwd" }, "config.train.data", "DATASETS_DIR"],
    ["absolute model", { model: `${dataDir}/jobs/x/train/weights/best.pt` }, "config.model", "job:<id>/best.pt"],
    ["model with ..", { model: "../jobs/x/train/weights/best.pt" }, "config.model", "job:<id>/best.pt"],
    ["absolute pretrained", { pretrained: "/tmp/x.pt" }, "config.train.pretrained", "job:<id>/best.pt"],
  ])("%s → 422 on the field, nothing written", async (_what, patch, field, message) => {
    const before = await counts();
    const res = await submit(aliceCookie, projectA, config(patch));
    expect(res.status).toBe(422);
    expect(res.body.error.fields[field].join(" ")).toContain(message);
    expect(await counts()).toEqual(before);
  });
});

describe("fine-tuning from an earlier job", () => {
  it("trains from its own team's job: the worker fetches the stored best.pt, checks its sha256 and hands the file to the trainer", async () => {
    const source = await finishedSourceJob();
    const best = await db.jobArtifact.findUniqueOrThrow({ where: { jobId_name: { jobId: source, name: "weights/best.pt" } } });
    // Another project of the same team; the task is inherited from the job it starts from.
    const res = await submit(aliceCookie, projectA2, {
      model: `job:${source}/best.pt`,
      train: { data: "shapes/data.yaml", epochs: 2 },
      metadata: { fake: { delayMs: 20 } },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.job).toMatchObject({ model: `job:${source}/best.pt`, task: "segment", name: "from source run · shapes" });
    const done = await ended(res.body.job.id);
    expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
    const fetched = path.join(dataDir, "jobs", done.id, "inputs", `${source}-best.pt`);
    expect(sha(readFileSync(fetched))).toBe(best.sha256);
    // The stand-in trainer read that very file (it prints the sha256 of what it loaded).
    expect(await db.jobLog.count({ where: { jobId: done.id, line: `input job:${source}/best.pt sha256 ${best.sha256}` } })).toBe(1);
    expect((await db.jobEvent.findFirstOrThrow({ where: { jobId: done.id, kind: "inputs" } })).message).toContain(`job:${source}/best.pt`);
  });

  it("takes a job reference as train.pretrained too, and a retry checks it again", async () => {
    const source = await finishedSourceJob();
    const res = await submit(aliceCookie, projectA, config({ pretrained: `job:${source}/last.pt` }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = await ended(res.body.job.id);
    expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
    const last = await db.jobArtifact.findUniqueOrThrow({ where: { jobId_name: { jobId: source, name: "weights/last.pt" } } });
    expect(await db.jobLog.count({ where: { jobId: done.id, line: `input job:${source}/last.pt sha256 ${last.sha256}` } })).toBe(1);
    const retry = await call(retryRoute.POST, { cookie: aliceCookie, params: { jobId: done.id } });
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect((await ended(retry.body.job.id)).status).toBe("SUCCEEDED");
  });

  it("answers 404 for another team's job, even to a user who can read it, and writes nothing", async () => {
    const source = await finishedSourceJob();
    for (const [cookie, field, cfg] of [
      [bobCookie, "model", config({ model: `job:${source}/best.pt` })],
      [bobCookie, "train.pretrained", config({ pretrained: `job:${source}/best.pt` })],
      // A member of both teams reads the job, but a job of team B may not start from team A's weights.
      [bothCookie, "model", config({ model: `job:${source}/best.pt` })],
      [bobCookie, "model", config({ model: "job:cnosuchjob0000/best.pt" })],
    ] as const) {
      const before = await counts();
      const res = await submit(cookie, projectB, cfg);
      expect(res.status, JSON.stringify(res.body)).toBe(404);
      expect(res.body.error.message).toContain(`\`${field}\``);
      expect(await counts()).toEqual(before);
    }
  });

  it("answers 422 on the field when the job has no such weights stored", async () => {
    // A job of the same team that never ran (cancelled while queued): no artifacts.
    const never = await db.trainingJob.create({
      data: { projectId: projectA, createdById: alice.id, name: "never ran", config: config(), status: "CANCELLED" },
    });
    const before = await counts();
    const res = await submit(aliceCookie, projectA, config({ model: `job:${never.id}/best.pt` }));
    expect(res.status).toBe(422);
    expect(res.body.error.fields["config.model"][0]).toContain("has no stored best.pt yet");
    expect(await counts()).toEqual(before);
  });
});

describe("the worker checks again (defence in depth)", () => {
  it("fails a job whose dataset is a symlink out of DATASETS_DIR, before the trainer starts", async () => {
    const res = await submit(aliceCookie, projectA, config({ data: "leak/data.yaml" }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = await ended(res.body.job.id);
    expect(done).toMatchObject({ status: "FAILED", failureClass: "PATH_NOT_ALLOWED" });
    expect(done.failureReason).toContain("outside the datasets directory (DATASETS_DIR)");
    expect(done.failureReason).not.toContain(outside);
    const kinds = (await db.jobEvent.findMany({ where: { jobId: done.id }, orderBy: { createdAt: "asc" } })).map((e) => e.kind);
    expect(kinds).not.toContain("running");
    expect(await db.jobLog.count({ where: { jobId: done.id } })).toBe(0);
  });

  it.each([
    ["an absolute model", { model: "/etc/passwd.pt", data: "shapes/data.yaml" }, "`model` is not allowed"],
    ["a dataset with ..", { model: "yolov8n.yaml", data: "../../x" }, "`train.data` is not allowed"],
    [
      "a path-form pretrained",
      { model: "yolov8n.yaml", data: "shapes/data.yaml", pretrained: "/etc/passwd.pt" },
      "`train.pretrained` is not allowed",
    ],
    ["another team's job reference", { model: "job:SOURCE/best.pt", data: "shapes/data.yaml" }, "not a job of this team"],
  ])("refuses a row written around the web app with %s", async (_what, bad, message) => {
    const source = await finishedSourceJob();
    const cfg = {
      model: bad.model.replace("SOURCE", source),
      type: "yolo",
      task: "detect",
      train: { data: bad.data, epochs: 1, ...("pretrained" in bad ? { pretrained: bad.pretrained } : {}) },
      metadata: { fake: { delayMs: 10 } },
    };
    const row = await db.trainingJob.create({
      data: { projectId: projectB, createdById: both.id, name: "forged", config: cfg, model: cfg.model, task: "detect", totalEpochs: 1 },
    });
    await enqueueTraining(row.id, "normal");
    const done = await ended(row.id);
    expect(done).toMatchObject({ status: "FAILED", failureClass: "PATH_NOT_ALLOWED" });
    expect(done.failureReason).toContain(message);
    expect(existsSync(path.join(dataDir, "jobs", row.id, "inputs"))).toBe(false);
    expect(await db.jobLog.count({ where: { jobId: row.id } })).toBe(0);
  });

  it("fails a job reference whose stored bytes do not match the recorded sha256", async () => {
    const tampered = await db.trainingJob.create({
      data: { projectId: projectA, createdById: alice.id, name: "tampered", config: config(), status: "SUCCEEDED" },
    });
    const key = `jobs/${tampered.id}/x/weights/best.pt`;
    await db.jobArtifact.create({
      data: {
        id: `art${tampered.id}`,
        jobId: tampered.id,
        name: "weights/best.pt",
        size: 5n,
        sha256: sha(Buffer.from("bytes as recorded")),
        storageKey: key,
      },
    });
    const client = new S3Client({
      endpoint: S3.S3_ENDPOINT,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    await client.send(new PutObjectCommand({ Bucket: S3.S3_BUCKET, Key: key, Body: Buffer.from("other bytes") }));
    const res = await submit(aliceCookie, projectA, config({ model: `job:${tampered.id}/best.pt` }));
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const done = await ended(res.body.job.id);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe(`job:${tampered.id}/best.pt in the object store does not match its recorded checksum`);
    expect(existsSync(path.join(dataDir, "jobs", done.id, "inputs", `${tampered.id}-best.pt`))).toBe(false);
    expect(await db.jobLog.count({ where: { jobId: done.id } })).toBe(0);
  });

  it("fails a job reference on a worker without an object store, saying so", async () => {
    const source = await finishedSourceJob();
    await worker.stop();
    const bare = startWorker("paths-no-s3", { S3_ENDPOINT: "", WORKER_DATA_DIR: dataDir, DATASETS_DIR: datasets });
    try {
      await bare.ready;
      const res = await submit(aliceCookie, projectA, config({ model: `job:${source}/best.pt` }));
      expect(res.status).toBe(201);
      const done = await ended(res.body.job.id);
      expect(done).toMatchObject({ status: "FAILED", failureClass: "INVALID_ARGUMENT" });
      expect(done.failureReason).toContain("no object store configured (S3_ENDPOINT)");
    } finally {
      await bare.stop();
    }
  });
});

// Last: its job is picked up by the worker, whose writes must not land in another test's counts.
describe("the old service's absolute dataset paths", () => {
  it("reads an absolute dataset path (the old service's mounts) inside DATASETS_DIR, saying so", async () => {
    const res = await submit(aliceCookie, projectA, config({ data: "/etc/passwd" }));
    expect(res.status).toBe(201);
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: res.body.job.id } });
    expect((row.config as { train: { data: string } }).train.data).toBe("etc/passwd");
    expect(res.body.warnings.join(" ")).toContain("DATASETS_DIR");
  });
});
