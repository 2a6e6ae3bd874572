import { spawn, type ChildProcess } from "node:child_process";
import { createServer as createNetServer } from "node:net";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "@wyolo/contracts";
import { db } from "@/server/db";
import { attachRealtime } from "@/realtime/socket-server";
import * as memberRoute from "@/app/api/v1/teams/[teamId]/members/[userId]/route";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;

// The realtime server's Redis is one of its own, taken away for real while a member is removed:
// the disconnect published meanwhile never reaches it.
let port: number;
let redisServer: ChildProcess | undefined;
let http: Server;
let realtime: ReturnType<typeof attachRealtime>;
let url: string;
const clients: Client[] = [];

async function freePort(): Promise<number> {
  const probe = createNetServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

async function startRedis() {
  redisServer = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], {
    stdio: "ignore",
  });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createNetServer();
      s.once("error", () => resolve(true)); // the port is taken: redis-server listens
      s.listen(port, "127.0.0.1", () => s.close(() => resolve(false)));
    });
    if (up) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("redis-server did not start");
}

async function stopRedis() {
  const proc = redisServer!;
  redisServer = undefined;
  await new Promise((r) => (proc.once("exit", r), proc.kill("SIGKILL")));
}

const connected = (c: Client) => new Promise<void>((resolve, reject) => (c.once("connect", resolve), c.once("connect_error", reject)));
const subscribe = (c: Client, req: { projectId: string }) => new Promise<SubscribeAck>((resolve) => c.emit("subscribe", req, resolve));
function client(cookie: string): Client {
  const c: Client = connect(url, {
    path: "/socket.io",
    transports: ["websocket"],
    extraHeaders: { cookie },
    reconnection: false,
    forceNew: true,
  });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  http = createServer();
  realtime = attachRealtime(http, `redis://127.0.0.1:${port}`);
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await realtime?.close();
  await new Promise((r) => http?.close(r));
  if (redisServer) await stopRedis();
});

describe("a disconnect lost while Redis was away", () => {
  it("is made up for when Redis is back: the process's sockets reconnect and are checked again", async () => {
    const owner = await createUser();
    const member = await createUser();
    const team = await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: member.id, role: "VIEWER" },
    ]);
    const project = await db.project.create({ data: { teamId: team.id, name: "R", slug: "r" } });
    const cookie = await sessionCookie(member);
    const socket = client(cookie);
    await connected(socket);
    expect(await subscribe(socket, { projectId: project.id })).toEqual({ ok: true });

    await stopRedis();
    expect(
      (
        await call(memberRoute.DELETE, {
          cookie: await sessionCookie(owner),
          method: "DELETE",
          params: { teamId: team.id, userId: member.id },
        })
      ).status,
    ).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    expect(socket.connected).toBe(true); // nothing could tell this process

    const ended = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("still connected 10 s after Redis came back")), 10_000);
      socket.once("disconnect", () => (clearTimeout(timer), resolve()));
    });
    await startRedis();
    await ended;
    const again = client(cookie);
    await connected(again);
    expect(await subscribe(again, { projectId: project.id })).toEqual({ ok: false, error: "Not found" });
  });
});
