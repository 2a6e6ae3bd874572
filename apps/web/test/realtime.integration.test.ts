import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "@wyolo/contracts";
import { db } from "@/server/db";
import { attachRealtime } from "@/realtime/socket-server";
import { emitJobUpdated } from "@/server/realtime/emitter";
import { createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
let server: Server;
let realtime: ReturnType<typeof attachRealtime>;
let url: string;
const clients: Client[] = [];

function client(cookie?: string): Client {
  const c: Client = connect(url, { path: "/socket.io", transports: ["websocket"], extraHeaders: cookie ? { cookie } : {}, reconnection: false });
  clients.push(c);
  return c;
}
const connected = (c: Client) => new Promise<void>((resolve, reject) => (c.on("connect", resolve), c.on("connect_error", reject)));
const subscribe = (c: Client, req: { projectId: string } | { jobId: string }) => new Promise<SubscribeAck>((resolve) => c.emit("subscribe", req, resolve));

beforeAll(async () => {
  server = createServer();
  realtime = attachRealtime(server, process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await realtime.close();
  await new Promise((r) => server.close(r));
});

describe("socket.io rooms", () => {
  it("refuses a connection without a valid session", async () => {
    await expect(connected(client())).rejects.toThrow("unauthorized");
    await expect(connected(client("next-auth.session-token=forged"))).rejects.toThrow("unauthorized");
  });

  it("lets readers of a project subscribe and receive live job updates; others get 'Not found'", async () => {
    const viewer = await createUser();
    const outsider = await createUser();
    const team = await createTeamWith([{ userId: viewer.id, role: "VIEWER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "Live", slug: "live" } });
    const job = await db.trainingJob.create({ data: { projectId: project.id, createdById: viewer.id, name: "j", config: {} } });

    const reader = client(await sessionCookie(viewer));
    const stranger = client(await sessionCookie(outsider));
    await Promise.all([connected(reader), connected(stranger)]);

    expect(await subscribe(reader, { projectId: project.id })).toEqual({ ok: true });
    expect(await subscribe(stranger, { projectId: project.id })).toEqual({ ok: false, error: "Not found" });
    expect(await subscribe(stranger, { jobId: job.id })).toEqual({ ok: false, error: "Not found" });
    expect(await subscribe(reader, { jobId: "x".repeat(500) } as { jobId: string })).toEqual({ ok: false, error: "Bad request" });

    let strangerGot = 0;
    stranger.on("job:updated", () => strangerGot++);
    const received = new Promise((resolve) => reader.on("job:updated", resolve));
    emitJobUpdated({ id: job.id, projectId: project.id, status: "RUNNING", currentEpoch: 3 });
    expect(await received).toMatchObject({ id: job.id, status: "RUNNING", currentEpoch: 3 });
    await new Promise((r) => setTimeout(r, 200));
    expect(strangerGot).toBe(0);
  });

  it("stops live access for a user disabled after connecting", async () => {
    const user = await createUser();
    const team = await createTeamWith([{ userId: user.id, role: "MEMBER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "D", slug: "d" } });
    const c = client(await sessionCookie(user));
    await connected(c);
    await db.user.update({ where: { id: user.id }, data: { disabled: true } });
    expect(await subscribe(c, { projectId: project.id })).toEqual({ ok: false, error: "Sign in first" });
  });
});
