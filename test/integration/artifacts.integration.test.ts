import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startS3rver } from "./s3rver";

// A real S3 server process (s3rver) on loopback; this file's web modules and workers use it.
const s3 = await startS3rver();
const S3 = s3.env;
Object.assign(process.env, S3);

const { db } = await import("@/server/db");
const { trainingQueue } = await import("@/server/queue");
const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
const downloadRoute = await import("@/app/api/v1/jobs/[jobId]/artifacts/[artifactId]/download/route");
const listRoute = await import("@/app/api/v1/jobs/[jobId]/artifacts/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("./helpers");
const { startWorker, waitFor } = await import("./worker-harness");

const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-art-"));
let member: { id: string };
let viewerCookie: string;
let memberCookie: string;
let projectId: string;
const workers: ReturnType<typeof startWorker>[] = [];
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

beforeAll(async () => {
  member = await createUser();
  const viewer = await createUser();
  const team = await createTeamWith([
    { userId: member.id, role: "MEMBER" },
    { userId: viewer.id, role: "VIEWER" },
  ]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Art", slug: "art" } })).id;
  memberCookie = await sessionCookie(member);
  viewerCookie = await sessionCookie(viewer);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await trainingQueue.obliterate({ force: true });
  await s3.close();
});

const start = (name: string) => {
  const w = startWorker(name, { ...S3, WORKER_DATA_DIR: dataDir, ARTIFACT_CHECKPOINT_INTERVAL_MS: "0" });
  workers.push(w);
  return w;
};
async function submit(name: string, epochs: number, delayMs: number) {
  const res = await call(jobsRoute.POST, {
    cookie: memberCookie,
    params: { projectId },
    body: { name, config: { model: "yolo11n.yaml", train: { data: "d/data.yaml", epochs }, metadata: { fake: { delayMs } } } },
  });
  return res.body.job.id as string;
}

describe("artifacts in the object store", () => {
  it("stores a finished job's weights and results with their checksums, and hands readers a short-lived download link", async () => {
    const w = start("art-1");
    await w.ready;
    const id = await submit("weights please", 3, 30);
    await waitFor(async () => (await db.trainingJob.findUniqueOrThrow({ where: { id } })).status === "SUCCEEDED", 20_000, "the job");
    const list = await call(listRoute.GET, { cookie: viewerCookie, params: { jobId: id } });
    expect(list.body.artifacts.map((a: { name: string }) => a.name)).toEqual(["results.csv", "weights/best.pt", "weights/last.pt"]);
    const best = list.body.artifacts.find((a: { name: string }) => a.name === "weights/best.pt");
    expect(best.size).toBe(64 * 1024);

    // A VIEWER downloads: 302 to a presigned URL whose bytes match the recorded sha256.
    const raw = await downloadRoute.GET(new Request("http://localhost/x", { headers: { cookie: viewerCookie } }), {
      params: Promise.resolve({ jobId: id, artifactId: best.id }),
    });
    expect(raw.status).toBe(302);
    const location = raw.headers.get("location")!;
    expect(location).toContain("X-Amz-Expires=900");
    expect(decodeURIComponent(location)).toContain('filename="art-weights-please-best.pt"');
    const bytes = Buffer.from(await (await fetch(location)).arrayBuffer());
    expect(sha(bytes)).toBe(best.sha256);
    expect(await db.auditLog.count({ where: { action: "artifact.download", targetId: best.id } })).toBe(1);

    // Another team's user gets 404, for the list and the link.
    const stranger = await sessionCookie(await createUser());
    expect((await call(listRoute.GET, { cookie: stranger, params: { jobId: id } })).status).toBe(404);
    const denied = await downloadRoute.GET(new Request("http://localhost/x", { headers: { cookie: stranger } }), {
      params: Promise.resolve({ jobId: id, artifactId: best.id }),
    });
    expect(denied.status).toBe(404);
    await w.stop();
  });

  it("keeps the last checkpoint's weights in the store when the worker dies mid-run", async () => {
    const w = start("art-2");
    await w.ready;
    const id = await submit("crashy", 30, 150);
    await waitFor(
      async () =>
        (await db.jobArtifact.findFirst({ where: { jobId: id, name: "weights/best.pt" } })) !== null &&
        ((await db.trainingJob.findUniqueOrThrow({ where: { id } })).currentEpoch ?? 0) >= 2,
      20_000,
      "weights uploaded during training",
    );
    w.child.kill("SIGKILL");
    await w.exited;
    const row = await db.jobArtifact.findFirstOrThrow({ where: { jobId: id, name: "weights/best.pt" } });
    const raw = await downloadRoute.GET(new Request("http://localhost/x?format=json", { headers: { cookie: memberCookie } }), {
      params: Promise.resolve({ jobId: id, artifactId: row.id }),
    });
    const { url } = (await raw.json()) as { url: string };
    expect(sha(Buffer.from(await (await fetch(url)).arrayBuffer()))).toBe(row.sha256);
  });

  it("waits out an object store outage at the end of a job and stores everything once it is back", async () => {
    // A second S3 server whose port is known but which is down while the job runs.
    const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-s3-outage-"));
    const probe = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: dir });
    const { port: downPort } = await probe.run();
    await probe.close();
    const endpoint = `http://127.0.0.1:${downPort}`;
    const w = startWorker("art-outage", {
      ...S3,
      S3_ENDPOINT: endpoint,
      WORKER_DATA_DIR: dataDir,
      ARTIFACT_CHECKPOINT_INTERVAL_MS: "0",
      ARTIFACT_RETRY_WINDOW_MS: "60000",
    });
    workers.push(w);
    await w.ready;
    const id = await submit("outage", 3, 30);
    await waitFor(
      async () => (await db.jobEvent.findFirst({ where: { jobId: id, kind: "artifacts-retry" } })) !== null,
      20_000,
      "the upload to be retried",
    );
    expect((await db.trainingJob.findUniqueOrThrow({ where: { id } })).status).toBe("RUNNING");
    expect(await db.jobArtifact.count({ where: { jobId: id } })).toBe(0);

    // The store comes back (empty: the bucket is created again) and the upload goes through.
    const back = new S3rver({ port: downPort, address: "127.0.0.1", silent: true, directory: dir });
    await back.run();
    try {
      await waitFor(
        async () => (await db.trainingJob.findUniqueOrThrow({ where: { id } })).status === "SUCCEEDED",
        40_000,
        "the job to end after the outage",
      );
      const rows = await db.jobArtifact.findMany({ where: { jobId: id }, orderBy: { name: "asc" } });
      expect(rows.map((r) => r.name)).toEqual(["results.csv", "weights/best.pt", "weights/last.pt"]);
      const client = new S3Client({
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
      });
      for (const r of rows) {
        const body = await (
          await client.send(new GetObjectCommand({ Bucket: S3.S3_BUCKET, Key: r.storageKey }))
        ).Body!.transformToByteArray();
        expect(sha(Buffer.from(body)), r.name).toBe(r.sha256);
      }
      const kinds = (await db.jobEvent.findMany({ where: { jobId: id }, orderBy: { createdAt: "asc" } })).map((e) => e.kind);
      expect(kinds.filter((k) => k.startsWith("artifacts"))).toEqual(["artifacts-retry", "artifacts"]);
    } finally {
      await w.stop();
      await back.close();
    }
  });

  it("resumes a job on another host from the checkpoint in the object store", async () => {
    const a = start("art-host-a");
    await a.ready;
    const id = await submit("two hosts", 12, 150);
    await waitFor(
      async () =>
        (await db.jobArtifact.findFirst({ where: { jobId: id, name: "weights/last.pt" } })) !== null &&
        ((await db.trainingJob.findUniqueOrThrow({ where: { id } })).currentEpoch ?? 0) >= 3,
      20_000,
      "a checkpoint in the store",
    );
    a.child.kill("SIGKILL");
    await a.exited;
    // Another host: a data directory of its own, without the job's run directory.
    const b = startWorker("art-host-b", { ...S3, ARTIFACT_CHECKPOINT_INTERVAL_MS: "0" });
    workers.push(b);
    await b.ready;
    try {
      const done = await waitFor(
        async () => {
          const j = await db.trainingJob.findUniqueOrThrow({ where: { id } });
          return ["SUCCEEDED", "FAILED"].includes(j.status) && j;
        },
        40_000,
        "the job to finish on host b",
      );
      expect(done).toMatchObject({ status: "SUCCEEDED", workerName: "art-host-b", attempt: 2 });
      const timeline = await db.jobEvent.findMany({ where: { jobId: id }, orderBy: { createdAt: "asc" } });
      expect(
        timeline.map((e) => e.kind),
        `${timeline.map((e) => `${e.kind}: ${e.message}`).join("\n")}\n--- host b:\n${b.output().slice(-3000)}`,
      ).toContain("checkpoint-restored");
      const resumedAt = (await db.jobLog.findFirstOrThrow({ where: { jobId: id, line: { startsWith: "resuming from last.pt" } } })).line;
      // From the stored checkpoint, not from scratch: the upload runs behind training, so on a busy
      // machine the object stored when host a died may be an epoch or two older than its progress.
      expect(Number(/epoch (\d+)/.exec(resumedAt)![1])).toBeGreaterThanOrEqual(1);
      expect(
        (await db.jobEpoch.findMany({ where: { jobId: id }, select: { epoch: true } })).map((e) => e.epoch).sort((x, y) => x - y),
      ).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    } finally {
      await b.stop();
    }
  });

  it("takes named weights from the object store's weights prefix, and fails a job whose weights are nowhere, saying where it looked", async () => {
    const client = new S3Client({
      endpoint: S3.S3_ENDPOINT,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    const bytes = Buffer.alloc(4096, "pretrained");
    await client.send(new PutObjectCommand({ Bucket: S3.S3_BUCKET, Key: "weights/yolo11n.pt", Body: bytes }));
    const w = startWorker("art-weights", { ...S3, WEIGHTS_S3_PREFIX: "weights/" });
    workers.push(w);
    await w.ready;
    const named = async (name: string, model: string) =>
      (
        await call(jobsRoute.POST, {
          cookie: memberCookie,
          params: { projectId },
          body: {
            name,
            config: { model, train: { data: "d/data.yaml", epochs: 1 }, metadata: { fake: { delayMs: 10, requireWeights: true } } },
          },
        })
      ).body.job.id as string;
    const ended = (id: string) =>
      waitFor(
        async () => {
          const j = await db.trainingJob.findUniqueOrThrow({ where: { id } });
          return ["SUCCEEDED", "FAILED"].includes(j.status) && j;
        },
        20_000,
        "the job",
      );
    const ok = await ended(await named("pretrained", "yolo11n.pt"));
    expect(ok.status, ok.failureReason ?? "").toBe("SUCCEEDED");
    expect(await db.jobLog.count({ where: { jobId: ok.id, line: `weights yolo11n.pt sha256 ${sha(bytes)}` } })).toBe(1);
    const missing = await ended(await named("no weights", "yolo11x.pt"));
    expect(missing.status).toBe("FAILED");
    expect(missing.failureReason).toBe(
      "Weights 'yolo11x.pt' are not available: not in WEIGHTS_DIR (not configured) nor at s3://wyolo-artifacts/weights/yolo11x.pt. Put the file in one of them, or train from an architecture such as yolo11x.yaml",
    );
    await w.stop();
  });

  it("resumes from a stored checkpoint newer than its record (its worker died between the upload and the record), vouched for by the checksum stored with it", async () => {
    // A job whose first attempt ran 3 epochs on a host that is gone: the store has epoch 3's
    // last.pt (with its own sha256 as metadata), the record still says epoch 2's.
    const id = await submit("orphaned checkpoint", 5, 20);
    await db.trainingJob.update({ where: { id }, data: { attempt: 1 } });
    const client = new S3Client({
      endpoint: S3.S3_ENDPOINT,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    const epoch3 = Buffer.alloc(64 * 1024, `${id}:3:`);
    const key = `jobs/${id}/weights/last.pt`;
    await client.send(new PutObjectCommand({ Bucket: S3.S3_BUCKET, Key: key, Body: epoch3, Metadata: { sha256: sha(epoch3) } }));
    await db.jobArtifact.create({
      data: {
        id: `art${id}`,
        jobId: id,
        name: "weights/last.pt",
        size: 65536n,
        sha256: sha(Buffer.alloc(64 * 1024, `${id}:2:`)),
        storageKey: key,
      },
    });

    const w = startWorker("art-restore", { ...S3 });
    workers.push(w);
    await w.ready;
    try {
      const done = await waitFor(
        async () => {
          const j = await db.trainingJob.findUniqueOrThrow({ where: { id } });
          return ["SUCCEEDED", "FAILED"].includes(j.status) && j;
        },
        20_000,
        "the resumed job",
      );
      expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
      expect(await db.jobEvent.count({ where: { jobId: id, kind: "checkpoint-restored" } })).toBe(1);
      expect(await db.jobLog.count({ where: { jobId: id, line: "resuming from last.pt at epoch 4" } })).toBe(1);
    } finally {
      await w.stop();
    }
  });

  it("sends a large file in parts, and does not send it again while its checksum is unchanged", async () => {
    const { parseEnv } = await import("@wyolo/contracts");
    const { workerEnvSchema } = await import("../../apps/worker/src/env.ts");
    const { ArtifactStore } = await import("../../apps/worker/src/artifacts/store.ts");
    const pino = (await import("pino")).default;
    const store = new ArtifactStore(
      { ...parseEnv(workerEnvSchema, { ...process.env, ...S3 }), S3_ENDPOINT: S3.S3_ENDPOINT },
      db,
      pino({ level: "silent" }),
    );
    const id = await submit("big weights", 1, 10);
    const saveDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-big-"));
    mkdirSync(path.join(saveDir, "weights"));
    // 20 MB of varied bytes: three parts of 8 MB.
    const big = Buffer.alloc(20 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((i * 2654435761) >>> 0, i);
    writeFileSync(path.join(saveDir, "weights", "best.pt"), big);
    const first = await store.upload(id, saveDir);
    expect(first.map((a) => [a.name, a.size, a.sha256])).toEqual([["weights/best.pt", big.length, sha(big)]]);
    const client = new S3Client({
      endpoint: S3.S3_ENDPOINT,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    const body = Buffer.from(
      await (await client.send(new GetObjectCommand({ Bucket: S3.S3_BUCKET, Key: first[0]!.storageKey }))).Body!.transformToByteArray(),
    );
    expect(sha(body)).toBe(sha(big));
    expect(await store.upload(id, saveDir)).toEqual([]);
    // No snapshot copies are left beside the weights.
    expect(readdirSync(path.join(saveDir, "weights"))).toEqual(["best.pt"]);
    // A new version goes to a key of its own; the one it replaces is deleted after the record moved.
    writeFileSync(path.join(saveDir, "weights", "best.pt"), big.subarray(0, 1024));
    const second = await store.upload(id, saveDir);
    expect(second[0]!.storageKey).not.toBe(first[0]!.storageKey);
    expect((await db.jobArtifact.findFirstOrThrow({ where: { jobId: id, name: "weights/best.pt" } })).storageKey).toBe(
      second[0]!.storageKey,
    );
    await expect(client.send(new GetObjectCommand({ Bucket: S3.S3_BUCKET, Key: first[0]!.storageKey }))).rejects.toMatchObject({
      name: "NoSuchKey",
    });
  });
});
