import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// Redis wiped for real: a redis-server of this file's own (no AOF, no snapshots), flushed while
// jobs run, and their worker killed. The rows are left STARTING/RUNNING with no queue entry and
// nobody to end them: the reconciler puts them back, and Cancel and Retry act on them.
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

const redisPort = await freePort();
const redisServer: ChildProcess = spawn(
  "redis-server",
  ["--port", String(redisPort), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
  { stdio: "ignore" },
);
const redisUrl = `redis://127.0.0.1:${redisPort}`;
const admin = new Redis(redisUrl, { maxRetriesPerRequest: null });
admin.on("error", () => {}); // refused until redis-server listens, and again once it is stopped
await waitFor(async () => (await admin.ping().catch(() => null)) === "PONG", 10_000, "redis-server to start");
// Everything imported from here on (the web app's queue and Redis client, the workers) uses it.
process.env.REDIS_URL = redisUrl;
const { db } = await import("@/server/db");
const { trainingQueue } = await import("@/server/queue");
const { reconcileQueue } = await import("@/server/jobs/reconcile-queue");
const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
const cancelRoute = await import("@/app/api/v1/jobs/[jobId]/cancel/route");
const retryRoute = await import("@/app/api/v1/jobs/[jobId]/retry/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("./helpers");

const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-redis-wipe-"));
const workers: WorkerHandle[] = [];
let cookie: string;
let projectId: string;
let seq = 0;

function start() {
  const w = startWorker(`wipe-${++seq}`, { WORKER_DATA_DIR: dataDir });
  workers.push(w);
  return w;
}

function config(epochs: number) {
  return { model: "yolov8n.yaml", train: { data: "shapes/data.yaml", epochs, imgsz: 64, batch: 4 }, metadata: { fake: { delayMs: 300 } } };
}

async function submit(name: string, epochs: number) {
  const res = await call(jobsRoute.POST, { cookie, params: { projectId }, body: { name, priority: "normal", config: config(epochs) } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.job.id as string;
}

const job = (id: string) => db.trainingJob.findUniqueOrThrow({ where: { id }, include: { events: { orderBy: { createdAt: "asc" } } } });
const ended = (id: string, timeoutMs = 60_000) =>
  waitFor(
    async () => {
      const j = await job(id);
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    },
    timeoutMs,
    `job ${id} to end`,
  );

/**
 * Cancel and Retry answer 409 while the orphan's worker was heard from lately (right after a wipe
 * it may still hold its trainer until its lock lapses); the worker is SIGKILLed here, so its
 * silence is then fast-forwarded (the heartbeat backdated past RUN_SILENCE_MS) instead of waited for.
 */
async function expectConflictUntilSilent(route: { POST: typeof cancelRoute.POST }, id: string) {
  const early = await call(route.POST, { cookie, params: { jobId: id } });
  expect(early.status, JSON.stringify(early.body)).toBe(409);
  expect(early.body.error.message).toMatch(/its worker may still be running it; try again in \d+ s/);
  const row = await job(id);
  expect(["STARTING", "RUNNING"]).toContain(row.status);
  expect(row.cancelRequestedAt).toBeNull();
  expect(await trainingQueue.getJobState(id)).toBe("unknown");
  await db.$executeRaw`UPDATE "TrainingJob" SET "heartbeatAt" = now() - interval '31 seconds', "updatedAt" = now() - interval '31 seconds' WHERE id = ${id}`;
}

/** A job running on a worker of its own, then Redis flushed and that worker SIGKILLed: an orphaned row. */
async function orphan(name: string, epochs: number) {
  const w = start();
  await w.ready;
  const id = await submit(name, epochs);
  await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 2, 30_000, `${name}: epoch 2`);
  await admin.flushall();
  w.child.kill("SIGKILL");
  await w.exited;
  const row = await job(id);
  expect(["STARTING", "RUNNING"]).toContain(row.status);
  expect(await trainingQueue.getJobState(id)).toBe("unknown");
  return { id, epochAtLoss: row.currentEpoch! };
}

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Shapes", slug: "shapes" } })).id;
  cookie = await sessionCookie(member);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await trainingQueue.close();
  admin.disconnect();
  await new Promise((r) => (redisServer.once("exit", r), redisServer.kill("SIGKILL")));
});

describe("Redis wiped while jobs run, and their worker killed", () => {
  it(
    "the reconciler re-queues the RUNNING row that has no queue entry; it resumes from its checkpoint and finishes",
    { timeout: 180_000 },
    async () => {
      const { id, epochAtLoss } = await orphan("wiped", 20);
      // A row whose worker was heard from lately is left alone…
      expect((await reconcileQueue({ graceMs: 60_000 })).requeued).not.toContain(id);
      // …and one silent for longer than the grace period is put back.
      await new Promise((r) => setTimeout(r, 3_000));
      const repaired = await reconcileQueue({ graceMs: 2_000 });
      expect(repaired.requeued).toContain(id);
      expect((await job(id)).status).toBe("QUEUED");
      expect(["waiting", "prioritized"]).toContain(await trainingQueue.getJobState(id));

      start();
      const done = await ended(id, 90_000);
      expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
      const epochs = await db.jobEpoch.findMany({ where: { jobId: id }, orderBy: { epoch: "asc" }, select: { epoch: true } });
      expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const resumed = done.events.filter((e) => e.kind === "running").at(-1)!;
      expect(Number(/epochs (\d+)–/.exec(resumed.message)?.[1])).toBeGreaterThanOrEqual(epochAtLoss);
      expect(
        done.events.some((e) => e.kind === "stalled" && /no queue entry/i.test(e.message)),
        JSON.stringify(done.events.map((e) => e.message)),
      ).toBe(true);
    },
  );

  it(
    "Cancel ends such a row CANCELLED at once once its worker is silent (no worker is left to do it); 409 before",
    { timeout: 120_000 },
    async () => {
      await Promise.all(workers.map((w) => w.stop()));
      const { id } = await orphan("cancelled orphan", 40);
      await expectConflictUntilSilent(cancelRoute, id);
      const res = await call(cancelRoute.POST, { cookie, params: { jobId: id } });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      expect(res.body.job.status).toBe("CANCELLED");
      const row = await job(id);
      expect(row.status).toBe("CANCELLED");
      expect(row.finishedAt).not.toBeNull();
      expect(row.events.at(-1)!.kind).toBe("cancelled");
    },
  );

  it(
    "Retry of such a row is accepted once its worker is silent: it resumes from its checkpoint; 409 before",
    { timeout: 180_000 },
    async () => {
      const { id, epochAtLoss } = await orphan("retried orphan", 20);
      await expectConflictUntilSilent(retryRoute, id);
      const res = await call(retryRoute.POST, { cookie, params: { jobId: id } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
      expect(res.body.job.id).toBe(id);
      expect(res.body.job.status).toBe("QUEUED");
      start();
      const done = await ended(id, 90_000);
      expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
      expect(await db.jobEpoch.count({ where: { jobId: id } })).toBe(20);
      const resumed = done.events.filter((e) => e.kind === "running").at(-1)!;
      expect(Number(/epochs (\d+)–/.exec(resumed.message)?.[1])).toBeGreaterThanOrEqual(epochAtLoss);
    },
  );
});
