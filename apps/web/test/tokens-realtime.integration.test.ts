import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "@wyolo/contracts";
import { db } from "@/server/db";
import { attachRealtime } from "@/realtime/socket-server";
import { emitJobUpdated } from "@/server/realtime/emitter";
import * as accountToken from "@/app/api/v1/account/tokens/[tokenId]/route";
import * as teamToken from "@/app/api/v1/teams/[teamId]/tokens/[tokenId]/route";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";
import { createTestToken } from "./tokens-helper";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
let http: Server;
let realtime: ReturnType<typeof attachRealtime>;
let url: string;
const clients: Client[] = [];

/** A script's socket: the token in the handshake's auth, or as an Authorization header. */
function client(auth: { token?: string; header?: string }): Client {
  const byHeader = auth.header ? { extraHeaders: { authorization: auth.header } } : {};
  const c: Client = connect(url, {
    path: "/socket.io",
    transports: ["websocket"],
    auth: { token: auth.token },
    ...byHeader,
    reconnection: false,
    forceNew: true,
  });
  clients.push(c);
  return c;
}
const connected = (c: Client) => new Promise<void>((resolve, reject) => (c.once("connect", resolve), c.once("connect_error", reject)));
const subscribe = (c: Client, req: { projectId: string } | { jobId: string }) =>
  new Promise<SubscribeAck>((resolve) => c.emit("subscribe", req, resolve));
const disconnected = (c: Client, ms = 3000) =>
  new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms);
    c.once("disconnect", () => (clearTimeout(timer), resolve()));
  });

beforeAll(async () => {
  http = createServer();
  realtime = attachRealtime(http, process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const c of clients) c.close();
  await realtime.close();
  await new Promise((r) => http.close(r));
});

async function world() {
  const user = await createUser();
  const team = await createTeamWith([{ userId: user.id, role: "MEMBER" }]);
  const other = await createTeamWith([{ userId: user.id, role: "MEMBER" }]);
  const project = await db.project.create({ data: { teamId: team.id, name: "Live", slug: "live" }, select: { id: true } });
  const otherProject = await db.project.create({ data: { teamId: other.id, name: "Other", slug: "other" }, select: { id: true } });
  const job = await db.trainingJob.create({
    data: { projectId: project.id, createdById: user.id, name: "j", config: {} },
    select: { id: true },
  });
  return { user, team, project, otherProject, job };
}

describe("socket.io with API tokens", () => {
  it("connects with auth.token or an Authorization header and receives live updates of rooms the grant allows", async () => {
    const w = await world();
    const t = await createTestToken({ userId: w.user.id, teamId: w.team.id, scopes: ["read"] });
    const byAuth = client({ token: t.token });
    const byHeader = client({ header: t.authorization });
    await Promise.all([connected(byAuth), connected(byHeader)]);
    expect(await subscribe(byAuth, { projectId: w.project.id })).toEqual({ ok: true });
    expect(await subscribe(byHeader, { jobId: w.job.id })).toEqual({ ok: true });
    // Narrowed to the first team: the user's other team is not seen.
    expect(await subscribe(byAuth, { projectId: w.otherProject.id })).toEqual({ ok: false, error: "Not found" });
    const received = new Promise((resolve) => byHeader.on("job:updated", resolve));
    emitJobUpdated({ id: w.job.id, projectId: w.project.id, status: "RUNNING", currentEpoch: 2 });
    expect(await received).toMatchObject({ id: w.job.id, currentEpoch: 2 });
  });

  it("a token without the read scope joins no room", async () => {
    const w = await world();
    const t = await createTestToken({ userId: w.user.id, scopes: ["jobs:write"] });
    const c = client({ token: t.token });
    await connected(c);
    expect(await subscribe(c, { projectId: w.project.id })).toEqual({ ok: false, error: "Not found" });
  });

  it("refuses expired, revoked and unknown tokens with the reason", async () => {
    const w = await world();
    const expired = await createTestToken({ userId: w.user.id, expiresAt: new Date(Date.now() - 1000) });
    const revoked = await createTestToken({ userId: w.user.id, revokedAt: new Date() });
    await expect(connected(client({ token: expired.token }))).rejects.toThrow("This token has expired");
    await expect(connected(client({ header: revoked.authorization }))).rejects.toThrow("This token has been revoked");
    await expect(connected(client({ token: `wyolo_${"B".repeat(43)}` }))).rejects.toThrow("This API token is not valid");
  });

  it("drops a revoked personal token's sockets, like a signed-out session's, and leaves the user's others", async () => {
    const w = await world();
    const revoked = await createTestToken({ userId: w.user.id });
    const kept = await createTestToken({ userId: w.user.id });
    const a = client({ token: revoked.token });
    const b = client({ token: kept.token });
    await Promise.all([connected(a), connected(b)]);
    const gone = disconnected(a);
    const res = await call(accountToken.DELETE, { cookie: await sessionCookie(w.user), params: { tokenId: revoked.id } });
    expect(res.status).toBe(200);
    await gone;
    expect(b.connected).toBe(true);
    expect(await subscribe(b, { projectId: w.project.id })).toEqual({ ok: true });
  });

  it("drops a revoked service token's sockets, and a rejoin finds nothing", async () => {
    const owner = await createUser();
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "S", slug: "s" }, select: { id: true } });
    const svc = await createTestToken({ kind: "SERVICE", teamId: team.id, role: "VIEWER", userId: owner.id, scopes: ["read"] });
    const c = client({ token: svc.token });
    await connected(c);
    expect(await subscribe(c, { projectId: project.id })).toEqual({ ok: true });
    const gone = disconnected(c);
    expect(
      (await call(teamToken.DELETE, { cookie: await sessionCookie(owner), params: { teamId: team.id, tokenId: svc.id } })).status,
    ).toBe(200);
    await gone;
    await expect(connected(client({ token: svc.token }))).rejects.toThrow("This token has been revoked");
  });
});
