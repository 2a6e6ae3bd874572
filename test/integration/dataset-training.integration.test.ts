import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startS3rver } from "./s3rver";

// A real S3 server (s3rver); each worker reaches it through a proxy of its own that counts the
// dataset GETs it sends, so "no download" is a count, not a guess.
const s3 = await startS3rver();
const S3 = s3.env;
Object.assign(process.env, S3);

const { db } = await import("@/server/db");
const { trainingQueue } = await import("@/server/queue");
const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("./helpers");
const { realTrainer, startWorker, waitFor } = await import("./worker-harness");
const { filesOfDir, s3Client, seedDatasetVersion, shapesFiles } = await import("./dataset-fixtures");
const { ROOT } = await import("./db");

const TRAINER = "node test/integration/dataset-trainer.mjs";

/** An HTTP proxy to s3rver counting GETs of dataset blobs and manifests. */
async function countingProxy(target: string) {
  const counts = { blobGets: 0, manifestGets: 0 };
  const server = http.createServer((req, res) => {
    if (req.method === "GET" && req.url?.includes("/datasets/")) {
      if (req.url.includes("/blobs/")) counts.blobGets++;
      if (req.url.includes("/manifests/")) counts.manifestGets++;
    }
    const up = http.request(`${target}${req.url}`, { method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { counts, endpoint, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const proxies: Awaited<ReturnType<typeof countingProxy>>[] = [];
const workers: ReturnType<typeof startWorker>[] = [];
let memberCookie: string;
let projectId: string;
let teamId: string;
let otherTeamId: string;
let userId: string;

beforeAll(async () => {
  const member = await createUser();
  userId = member.id;
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  teamId = team.id;
  otherTeamId = (await createTeamWith([{ userId: (await createUser()).id, role: "ADMIN" }])).id;
  projectId = (await db.project.create({ data: { teamId, name: "Shapes", slug: "shapes" } })).id;
  memberCookie = await sessionCookie(member);
});

// A test that fails midway leaves no worker behind to take the next test's jobs.
afterEach(async () => {
  await Promise.all(workers.splice(0).map((w) => w.stop()));
});

afterAll(async () => {
  await Promise.all(proxies.map((p) => p.close()));
  await trainingQueue.obliterate({ force: true });
  await s3.close();
});

async function workerWith(name: string, env: Record<string, string>) {
  const proxy = await countingProxy(S3.S3_ENDPOINT);
  proxies.push(proxy);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), `wyolo-${name}-`));
  const w = startWorker(name, {
    ...S3,
    S3_ENDPOINT: proxy.endpoint,
    TRAINER_COMMAND: TRAINER,
    WORKER_DATA_DIR: dataDir,
    ARTIFACT_CHECKPOINT_INTERVAL_MS: "0",
    ...env,
  });
  workers.push(w);
  await w.ready;
  return { w, proxy, dataDir };
}

async function submit(name: string, data: string, epochs: number, delayMs: number) {
  const res = await call(jobsRoute.POST, {
    cookie: memberCookie,
    params: { projectId },
    body: { name, config: { model: "yolo11n.yaml", train: { data, epochs }, metadata: { fake: { delayMs } } } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.job.id as string;
}

const ended = (id: string, timeoutMs = 60_000) =>
  waitFor(
    async () => {
      const j = await db.trainingJob.findUniqueOrThrow({ where: { id } });
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    },
    timeoutMs,
    `job ${id} to end`,
  );
const notes = async (id: string) =>
  (await db.jobEvent.findMany({ where: { jobId: id, kind: "inputs" }, orderBy: { createdAt: "asc" } })).map((e) => e.message);
const timeline = async (id: string) =>
  (await db.jobEvent.findMany({ where: { jobId: id }, orderBy: { createdAt: "asc" } })).map((e) => `${e.kind}: ${e.message}`).join("\n");

describe("training from a dataset version", () => {
  it("fetches on an empty cache, resumes on another host with its own cache after a SIGKILL, then hits the cache with no download", async () => {
    const v1 = await seedDatasetVersion(db, S3, {
      teamId,
      name: "shapes",
      files: shapesFiles({ images: 30, imageBytes: 4096 }),
      createdById: userId,
    });
    const one = await workerWith("ds-host-1", {});
    const id = await submit("from v1", v1.ref, 12, 150);
    await waitFor(
      async () =>
        (await db.jobArtifact.findFirst({ where: { jobId: id, name: "weights/last.pt" } })) !== null &&
        ((await db.trainingJob.findUniqueOrThrow({ where: { id } })).currentEpoch ?? 0) >= 3,
      30_000,
      "a checkpoint in the store",
    );
    // Host 1 fetched every distinct content once (label files share some) into WORKER_DATA_DIR/dataset-cache.
    expect(one.proxy.counts).toEqual({ blobGets: v1.distinctBlobs, manifestGets: 1 });
    expect(v1.distinctBlobs).toBeLessThan(v1.files);
    expect(existsSync(path.join(one.dataDir, "dataset-cache", v1.manifestHash, "data.yaml"))).toBe(true);
    expect(await notes(id)).toEqual([
      expect.stringMatching(new RegExp(`^Dataset shapes@v1: fetched ${v1.files} files, [\\d.]+ KB from the object store`)),
    ]);
    // The job records the exact version (the web app stores it at submission; the worker checks it).
    expect((await db.trainingJob.findUniqueOrThrow({ where: { id } })).datasetVersionId).toBe(v1.versionId);

    one.w.child.kill("SIGKILL");
    await one.w.exited;

    // Host 2: another data directory, its own cache folder, nothing shared with host 1 but the object store.
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-ds-cache-2-"));
    const two = await workerWith("ds-host-2", { DATASET_CACHE_DIR: cacheDir });
    const done = await ended(id);
    expect(done, await timeline(id)).toMatchObject({ status: "SUCCEEDED", workerName: "ds-host-2", attempt: 2 });
    const events = await timeline(id);
    expect(events).toContain("checkpoint-restored");
    expect(await notes(id)).toEqual([
      expect.stringContaining("Dataset shapes@v1: fetched"),
      expect.stringContaining("Dataset shapes@v1: fetched"),
    ]);
    expect(two.proxy.counts).toEqual({ blobGets: v1.distinctBlobs, manifestGets: 1 });
    // Its trainer read every file, checked, from host 2's cache (dataset-trainer.mjs wrote what it saw).
    const runDir = path.join(two.dataDir, "jobs", id);
    const seen = readdirSync(runDir).filter((n) => n.startsWith("dataset-seen-"));
    expect(seen).toHaveLength(1);
    const saw = JSON.parse(readFileSync(path.join(runDir, seen[0]!), "utf8")) as {
      data: string;
      cache: string;
      files: number;
      problems: string[];
    };
    expect(saw).toEqual({ data: path.join(cacheDir, v1.manifestHash, "data.yaml"), cache: cacheDir, files: v1.files, problems: [] });
    expect(readdirSync(two.dataDir)).not.toContain("dataset-cache");
    const epochs = (await db.jobEpoch.findMany({ where: { jobId: id }, select: { epoch: true } })).map((e) => e.epoch);
    expect(
      epochs.sort((a, b) => a - b),
      `${events}\n--- host 2:\n${two.w.output().slice(-3000)}`,
    ).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));

    // The next job on host 2 is a cache hit: not one dataset GET.
    const next = await submit("again from v1", v1.ref, 2, 20);
    expect(await ended(next), await timeline(next)).toMatchObject({ status: "SUCCEEDED", workerName: "ds-host-2" });
    expect(await notes(next)).toEqual([`Dataset shapes@v1: cache hit (${v1.files} files, ${kb(v1.bytes)}) on ds-host-2`]);
    expect(two.proxy.counts).toEqual({ blobGets: v1.distinctBlobs, manifestGets: 1 });
    await two.w.stop();
  }, 180_000);

  it("refuses a version that is not READY, one of another team, and a blob that does not match, before the trainer starts", async () => {
    const invalid = await seedDatasetVersion(db, S3, {
      teamId,
      name: "broken",
      files: shapesFiles({ images: 3, tag: "x" }),
      status: "INVALID",
    });
    const foreign = await seedDatasetVersion(db, S3, { teamId: otherTeamId, name: "secret", files: shapesFiles({ images: 3, tag: "s" }) });
    const tampered = await seedDatasetVersion(db, S3, { teamId, name: "tampered", files: shapesFiles({ images: 3, tag: "t" }) });
    const { PutObjectCommand } = await import("@aws-sdk/client-s3");
    const { datasetBlobKey } = await import("@wyolo/contracts");
    const client = s3Client(S3);
    const victim = shapesFiles({ images: 3, tag: "t" })["images/val/img_0.jpg"] as Buffer;
    const { createHash } = await import("node:crypto");
    const key = datasetBlobKey(teamId, createHash("sha256").update(victim).digest("hex"));
    await client.send(new PutObjectCommand({ Bucket: S3.S3_BUCKET, Key: key, Body: Buffer.alloc(victim.length, 1) }));

    // Jobs written while no worker runs; the rows are then pointed where the web app would never let them.
    const notReady = await submit("not ready", tampered.ref, 1, 10);
    await db.trainingJob.update({
      where: { id: notReady },
      data: { config: { model: "yolo11n.yaml", train: { data: invalid.ref, epochs: 1 } }, datasetVersionId: invalid.versionId },
    });
    const otherTeam = await submit("other team", tampered.ref, 1, 10);
    await db.trainingJob.update({
      where: { id: otherTeam },
      data: { config: { model: "yolo11n.yaml", train: { data: foreign.ref, epochs: 1 } }, datasetVersionId: foreign.versionId },
    });
    const corrupt = await submit("corrupt", tampered.ref, 1, 10);

    const w = await workerWith("ds-host-3", {});
    const failures = await Promise.all([notReady, otherTeam, corrupt].map((id) => ended(id)));
    expect(failures.map((j) => [j.status, j.failureClass])).toEqual([
      ["FAILED", "DATASET_INVALID"],
      ["FAILED", "PATH_NOT_ALLOWED"],
      ["FAILED", "DATASET_INVALID"],
    ]);
    expect(failures[0]!.failureReason).toBe("broken@v1 is invalid: only versions that passed validation (READY) are trained from");
    expect(failures[1]!.failureReason).not.toContain("secret");
    expect(failures[2]!.failureReason).toMatch(/tampered@v1: images\/val\/img_0\.jpg in the object store does not match the manifest/);
    // Nothing of the tampered version stays in the cache; no trainer ran.
    expect(readdirSync(path.join(w.dataDir, "dataset-cache")).filter((n) => !n.startsWith("."))).toEqual([]);
    for (const id of [notReady, otherTeam, corrupt]) expect(await db.jobEpoch.count({ where: { jobId: id } })).toBe(0);
    await w.w.stop();
  }, 120_000);
});

// The same with the real trainer (apps/worker/trainer/train.py and Ultralytics) where its Python can
// import them; skipped with the trainer check's reason elsewhere (as real-training is).
const real = realTrainer();
if (!real.ready)
  console.warn(`SKIPPED real Ultralytics training from a dataset version: ${real.report.problem ?? "the trainer check failed"}`);

describe.skipIf(!real.ready)("training from a dataset version with Ultralytics", () => {
  it("trains from the cache's data.yaml, and resumes on another host from that host's cache after a SIGKILL", async () => {
    const made = mkdtempSync(path.join(os.tmpdir(), "wyolo-ds-real-"));
    execFileSync(real.python, ["apps/worker/trainer/make_dataset.py", "detect", made, "--train", "32", "--val", "8", "--size", "96"], {
      cwd: ROOT,
    });
    const v = await seedDatasetVersion(db, S3, {
      teamId,
      name: "real-shapes",
      files: filesOfDir(made),
      names: ["circle", "square", "triangle"],
    });
    const trainer = `${real.python} apps/worker/trainer/train.py`;
    const one = await workerWith("ds-real-1", { TRAINER_COMMAND: trainer, LOCK_DURATION_MS: "4000" });
    const res = await call(jobsRoute.POST, {
      cookie: memberCookie,
      params: { projectId },
      body: {
        name: "real from a version",
        config: { model: "yolov8n.yaml", train: { data: v.ref, epochs: 5, imgsz: 96, batch: 8, workers: 0, plots: false } },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const id = res.body.job.id as string;
    await waitFor(
      async () =>
        (await db.jobArtifact.findFirst({ where: { jobId: id, name: "weights/last.pt" } })) !== null &&
        ((await db.trainingJob.findUniqueOrThrow({ where: { id } })).currentEpoch ?? 0) >= 2,
      150_000,
      "epoch 2 with a stored checkpoint",
    );
    one.w.child.kill("SIGKILL");
    await one.w.exited;
    rmSync(one.dataDir, { recursive: true, force: true }); // another host has none of host 1's files
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-ds-real-cache-"));
    const two = await workerWith("ds-real-2", { TRAINER_COMMAND: trainer, DATASET_CACHE_DIR: cacheDir });
    const done = await ended(id, 200_000);
    expect(done.status, `${done.failureReason ?? ""}\n${await timeline(id)}\n${two.w.output().slice(-3000)}`).toBe("SUCCEEDED");
    expect(done.workerName).toBe("ds-real-2");
    expect(await db.jobEpoch.count({ where: { jobId: id } })).toBe(5);
    const logs = (await db.jobLog.findMany({ where: { jobId: id }, select: { line: true } })).map((l) => l.line).join("\n");
    // The resumed attempt's Ultralytics read host 2's entry (host 1's folder is gone), though the checkpoint was written on host 1.
    expect(logs).toContain(path.join(cacheDir, v.manifestHash, "files"));
  }, 400_000);
});

function kb(bytes: number) {
  const v = bytes / 1024;
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} KB`;
}
