import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "@wyolo/contracts";
import { ownRedis } from "../../apps/web/test/outages";
import { startPgProxy } from "./pg-proxy";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// A real worker process and the web app's in-process modules (API routes, the queue reconciler,
// socket.io with its Redis adapter) through a Redis of this file's own, killed for 5 s and
// started again empty, and through a TCP proxy in front of Postgres, cut for 5 s. Nothing may
// crash, and within 5 s of the service coming back a new job is taken (and then finished).
const redisServer = await ownRedis();
process.env.REDIS_URL = redisServer.url;
const postgres = await startPgProxy(process.env.DATABASE_URL!);
process.env.DATABASE_URL = postgres.url;

const { db } = await import("@/server/db");
const { trainingQueue } = await import("@/server/queue");
const { reconcileQueue } = await import("@/server/jobs/reconcile-queue");
const { attachRealtime } = await import("@/realtime/socket-server");
const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("./helpers");

const OUTAGE_MS = 5_000;
// The bound stays 5 s under CI too: the measured figure (printed below with its margin) is
// ~2.0–2.3 s after Redis, nearly all of it ioredis's reconnect backoff (capped at 2 s, a timer,
// not CPU), and ~0.4 s after Postgres; at least 2× below the bound even on a loaded 2-core machine.
const RECOVERY_MS = 5_000;
const margin = (ms: number) => `bound ${RECOVERY_MS} ms, margin ${(RECOVERY_MS / Math.max(ms, 1)).toFixed(1)}×`;
let cookie: string;
let projectId: string;
let worker: WorkerHandle;
let http: Server;
let realtime: ReturnType<typeof attachRealtime>;
let socketUrl: string;
const sockets: Socket<ServerToClientEvents, ClientToServerEvents>[] = [];
// Anything the web modules leave unhandled in this process during an outage is a crash in production.
const unhandled: unknown[] = [];
const onUnhandled = (err: unknown) => unhandled.push(err);

const config = {
  model: "yolov8n.yaml",
  train: { data: "shapes/data.yaml", epochs: 2, imgsz: 64, batch: 4 },
  metadata: { fake: { delayMs: 50 } },
};
const submit = (name: string) => call(jobsRoute.POST, { cookie, params: { projectId }, body: { name, config } });
const row = (id: string) => db.trainingJob.findUniqueOrThrow({ where: { id }, select: { status: true, workerName: true } });
const alive = (w: WorkerHandle) => w.child.exitCode === null && w.child.signalCode === null;

beforeAll(async () => {
  process.on("unhandledRejection", onUnhandled);
  process.on("uncaughtException", onUnhandled);
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Outages", slug: "outages" } })).id;
  cookie = await sessionCookie(member);
  worker = startWorker("outage-w1");
  await worker.ready;
  http = createServer();
  realtime = attachRealtime(http, redisServer.url);
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  socketUrl = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  process.off("unhandledRejection", onUnhandled);
  process.off("uncaughtException", onUnhandled);
  for (const s of sockets) s.close();
  await worker?.stop();
  await realtime?.close();
  await new Promise((r) => http?.close(r));
  await trainingQueue.obliterate({ force: true }).catch(() => {});
  await redisServer.kill();
  await postgres.restore();
});

/** Submits (retrying while the web app cannot yet), then waits for the worker to take the job; ms from `since` to the pickup. */
async function submitAndTimePickup(name: string, since: number): Promise<{ id: string; pickupMs: number }> {
  const id = await waitFor(
    async () => {
      const res = await submit(name);
      return res.status === 201 && (res.body.job.id as string);
    },
    RECOVERY_MS + 5_000,
    `${name} to be accepted`,
  );
  await waitFor(async () => (await row(id)).workerName === "outage-w1", RECOVERY_MS + 10_000, `${name} to be taken`);
  return { id, pickupMs: Math.round(performance.now() - since) };
}

const finished = (id: string) =>
  waitFor(async () => ((await row(id)).status === "SUCCEEDED" ? true : undefined), 30_000, `job ${id} to succeed`);

/** Samples that the worker process is alive every 150 ms for `ms`. */
async function stayAlive(ms: number) {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    expect(alive(worker), worker.output().slice(-2000)).toBe(true);
    await new Promise((r) => setTimeout(r, 150));
  }
}

async function socketSubscribes(): Promise<boolean> {
  const socket: Socket<ServerToClientEvents, ClientToServerEvents> = connect(socketUrl, {
    path: "/socket.io",
    transports: ["websocket"],
    extraHeaders: { cookie },
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  await new Promise<void>((resolve, reject) => (socket.once("connect", resolve), socket.once("connect_error", reject)));
  const ack = await new Promise<SubscribeAck>((resolve) => socket.emit("subscribe", { projectId }, resolve));
  return ack.ok;
}

describe("Redis killed for 5 s and started again empty", () => {
  it("the worker process survives and takes a new job within 5 s of Redis's return; the web modules never crash and serve again", async () => {
    const before = await submitAndTimePickup("before the outage", performance.now());
    await finished(before.id);
    expect(await socketSubscribes()).toBe(true);

    await redisServer.kill();
    onTestFinished(() => redisServer.start());
    const refused = await submit("while Redis is away");
    expect(refused.status).toBe(503);
    expect(refused.body.error.message).toMatch(/Redis\) is unavailable|Redis is unavailable/);
    // The reconciler's timer in server.ts catches a rejection; it must reject (not hang) and not crash.
    await expect(
      Promise.race([
        reconcileQueue().then(
          () => "resolved",
          () => "rejected",
        ),
        new Promise((r) => setTimeout(() => r("hung"), 4_000)),
      ]),
    ).resolves.not.toBe("hung");
    await stayAlive(OUTAGE_MS);

    await redisServer.start();
    const back = performance.now();
    const after = await submitAndTimePickup("after the outage", back);
    console.log(`worker_recovery_after_redis_ms=${after.pickupMs} (Redis back → the worker takes a new job; ${margin(after.pickupMs)})`);
    expect(after.pickupMs).toBeLessThanOrEqual(RECOVERY_MS);
    await finished(after.id);
    const socketMs = Math.round(performance.now() - back);
    expect(await socketSubscribes()).toBe(true);
    console.log(`realtime: a new socket subscribes ${socketMs} ms after Redis came back (checked after the job finished: an upper bound)`);
    await expect(reconcileQueue()).resolves.toBeDefined();
    expect(alive(worker)).toBe(true);
    expect(unhandled).toEqual([]);
  });
});

describe("Postgres cut for 5 s", () => {
  it("the worker process survives and takes a new job within 5 s of Postgres's return", async () => {
    await postgres.cut();
    onTestFinished(() => postgres.restore());
    expect((await submit("while Postgres is away")).status).toBe(503);
    await expect(reconcileQueue()).rejects.toThrow();
    await stayAlive(OUTAGE_MS);

    await postgres.restore();
    const after = await submitAndTimePickup("after the Postgres outage", performance.now());
    console.log(
      `worker_recovery_after_postgres_ms=${after.pickupMs} (Postgres back → the worker takes a new job; ${margin(after.pickupMs)})`,
    );
    expect(after.pickupMs).toBeLessThanOrEqual(RECOVERY_MS);
    await finished(after.id);
    expect(alive(worker)).toBe(true);
    expect(unhandled).toEqual([]);
  });
});
