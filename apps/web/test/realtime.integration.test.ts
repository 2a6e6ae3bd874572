import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { encode } from "next-auth/jwt";
import { io as connect, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from "@wyolo/contracts";
import { db } from "@/server/db";
import { attachRealtime } from "@/realtime/socket-server";
import { emitJobUpdated } from "@/server/realtime/emitter";
import { reconnectAfterServerDisconnects } from "@/lib/live";
import * as adminUserRoute from "@/app/api/v1/admin/users/[userId]/route";
import * as memberRoute from "@/app/api/v1/teams/[teamId]/members/[userId]/route";
import * as passwordRoute from "@/app/api/v1/account/password/route";
import { NextAuthBrowser } from "./next-auth-browser";
import { PASSWORD, call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";

type Client = Socket<ServerToClientEvents, ClientToServerEvents>;
// Two realtime servers sharing Redis, as two web processes do: events and disconnects published
// through the emitter must reach the sockets of both.
const servers: { http: Server; realtime: ReturnType<typeof attachRealtime>; url: string }[] = [];
const clients: Client[] = [];

function client(cookie?: string, opts: { server?: number; origin?: string } = {}): Client {
  const headers: Record<string, string> = {};
  if (cookie) headers.cookie = cookie;
  if (opts.origin) headers.origin = opts.origin;
  const c: Client = connect(servers[opts.server ?? 0]!.url, {
    path: "/socket.io",
    transports: ["websocket"],
    extraHeaders: headers,
    reconnection: false,
    forceNew: true,
  });
  clients.push(c);
  return c;
}
const connected = (c: Client) => new Promise<void>((resolve, reject) => (c.once("connect", resolve), c.once("connect_error", reject)));
const subscribe = (c: Client, req: { projectId: string } | { jobId: string }) =>
  new Promise<SubscribeAck>((resolve) => c.emit("subscribe", req, resolve));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** When the socket was disconnected (ms since epoch); rejects if it is still connected after `ms`. */
const disconnectedAt = (c: Client, ms = 3000) =>
  new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still connected after ${ms} ms`)), ms);
    c.once("disconnect", () => (clearTimeout(timer), resolve(Date.now())));
  });

beforeAll(async () => {
  for (let i = 0; i < 2; i++) {
    const http = createServer();
    const realtime = attachRealtime(http, process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    servers.push({ http, realtime, url: `http://127.0.0.1:${(http.address() as AddressInfo).port}` });
  }
});

afterAll(async () => {
  for (const c of clients) c.close();
  for (const s of servers) {
    await s.realtime.close();
    await new Promise((r) => s.http.close(r));
  }
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
    await sleep(200);
    expect(strangerGot).toBe(0);
  });

  it("stops live access for a user disabled after connecting, even without the disconnect", async () => {
    const user = await createUser();
    const team = await createTeamWith([{ userId: user.id, role: "MEMBER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "D", slug: "d" } });
    const c = client(await sessionCookie(user));
    await connected(c);
    await db.user.update({ where: { id: user.id }, data: { disabled: true } });
    expect(await subscribe(c, { projectId: project.id })).toEqual({ ok: false, error: "Sign in first" });
  });
});

/**
 * A VIEWER with a socket on each of the two servers, subscribed to a project, next to a
 * bystander (another VIEWER) whose socket must keep receiving: it proves the event was sent.
 */
async function liveScene(given: { member?: { id: string }; cookie?: string } = {}) {
  const owner = await createUser();
  const member = given.member ?? (await createUser());
  const bystander = await createUser();
  const team = await createTeamWith([
    { userId: owner.id, role: "OWNER" },
    { userId: member.id, role: "VIEWER" },
    { userId: bystander.id, role: "VIEWER" },
  ]);
  const slug = `p-${randomBytes(3).toString("hex")}`;
  const project = await db.project.create({ data: { teamId: team.id, name: slug, slug } });
  const job = await db.trainingJob.create({ data: { projectId: project.id, createdById: owner.id, name: "j", config: {} } });
  const cookie = given.cookie ?? (await sessionCookie(member));
  const sockets = [client(cookie, { server: 0 }), client(cookie, { server: 1 })];
  const watcher = client(await sessionCookie(bystander), { server: 1 });
  await Promise.all([...sockets, watcher].map(connected));
  for (const s of [...sockets, watcher]) expect(await subscribe(s, { projectId: project.id })).toEqual({ ok: true });
  return { owner, member, bystander, team, project, job, cookie, sockets, watcher };
}

type Scene = Awaited<ReturnType<typeof liveScene>>;

/**
 * Runs the action and checks that each of `cut` is disconnected within 1 s of the action's
 * answer, and that a job update sent afterwards reaches the watcher but none of them.
 */
async function expectCutOff(scene: Scene, cut: Client[], action: () => Promise<unknown>) {
  const frames = cut.map(() => 0);
  cut.forEach((s, i) => s.on("job:updated", () => frames[i]!++));
  const ends = cut.map((s) => disconnectedAt(s));
  await action();
  const answeredAt = Date.now();
  for (const at of await Promise.all(ends)) expect(at - answeredAt).toBeLessThan(1000);

  const watcherGot = new Promise((resolve) => scene.watcher.once("job:updated", resolve));
  emitJobUpdated({ id: scene.job.id, projectId: scene.project.id, status: "RUNNING", currentEpoch: 1 });
  expect(await watcherGot).toMatchObject({ id: scene.job.id });
  await sleep(200);
  expect(frames).toEqual(cut.map(() => 0));
}

describe("sessions end on every web process within 1 s", () => {
  it("when a platform admin disables the user", async () => {
    const scene = await liveScene();
    const admin = await createUser({ isPlatformAdmin: true });
    await expectCutOff(scene, scene.sockets, async () =>
      expect(
        (
          await call(adminUserRoute.PATCH, {
            cookie: await sessionCookie(admin),
            method: "PATCH",
            params: { userId: scene.member.id },
            body: { disabled: true },
          })
        ).status,
      ).toBe(200),
    );
    await expect(connected(client(scene.cookie))).rejects.toThrow("unauthorized");
  });

  it("when the member is removed: a reconnect may no longer join the team's rooms", async () => {
    const scene = await liveScene();
    await expectCutOff(scene, scene.sockets, async () =>
      expect(
        (
          await call(memberRoute.DELETE, {
            cookie: await sessionCookie(scene.owner),
            method: "DELETE",
            params: { teamId: scene.team.id, userId: scene.member.id },
          })
        ).status,
      ).toBe(204),
    );
    const again = client(scene.cookie, { server: 1 });
    await connected(again);
    expect(await subscribe(again, { projectId: scene.project.id })).toEqual({ ok: false, error: "Not found" });
    expect(await subscribe(again, { jobId: scene.job.id })).toEqual({ ok: false, error: "Not found" });
  });

  it("when the member leaves the team", async () => {
    const scene = await liveScene();
    await expectCutOff(scene, scene.sockets, async () =>
      expect(
        (
          await call(memberRoute.DELETE, {
            cookie: scene.cookie,
            method: "DELETE",
            params: { teamId: scene.team.id, userId: scene.member.id },
          })
        ).status,
      ).toBe(204),
    );
  });

  it("when the member's role changes: the client's reconnect re-subscribes under the new role", async () => {
    const scene = await liveScene();
    for (const s of scene.sockets) reconnectAfterServerDisconnects(s, 100);
    const rejoined = scene.sockets.map(
      (s) => new Promise<void>((resolve) => s.once("disconnect", () => s.once("connect", () => resolve()))),
    );
    await expectCutOff(scene, scene.sockets, async () =>
      expect(
        (
          await call(memberRoute.PATCH, {
            cookie: await sessionCookie(scene.owner),
            method: "PATCH",
            params: { teamId: scene.team.id, userId: scene.member.id },
            body: { role: "MEMBER" },
          })
        ).status,
      ).toBe(200),
    );
    await Promise.all(rejoined);
    for (const s of scene.sockets) expect(await subscribe(s, { projectId: scene.project.id })).toEqual({ ok: true });
  });

  it("when the user changes their password", async () => {
    const scene = await liveScene();
    await expectCutOff(scene, scene.sockets, async () =>
      expect(
        (await call(passwordRoute.POST, { cookie: scene.cookie, body: { currentPassword: PASSWORD, newPassword: "a-brand-new-password" } }))
          .status,
      ).toBe(204),
    );
  });

  it("when the session signs out through next-auth: its sockets end, the user's other sessions keep theirs, and the client stops reconnecting", async () => {
    const member = await createUser();
    const browser = new NextAuthBrowser();
    expect(await browser.signIn(member.email, PASSWORD)).toBe(true);
    const otherBrowser = new NextAuthBrowser();
    expect(await otherBrowser.signIn(member.email, PASSWORD)).toBe(true);
    const scene = await liveScene({ member, cookie: browser.sessionCookie() });
    const [first, second] = scene.sockets as [Client, Client];
    const otherSession = client(otherBrowser.sessionCookie(), { server: 0 });
    await connected(otherSession);
    expect(await subscribe(otherSession, { projectId: scene.project.id })).toEqual({ ok: true });
    reconnectAfterServerDisconnects(first, 100);
    let refusals = 0;
    first.on("connect_error", () => refusals++);
    const otherGot = new Promise((resolve) => otherSession.once("job:updated", resolve));

    await expectCutOff(scene, [first, second], () => browser.signOut());
    expect(await otherGot).toMatchObject({ id: scene.job.id });
    expect(otherSession.connected).toBe(true);
    // One reconnect try (after ~100 ms), refused for the revoked session, then no more.
    await sleep(1500);
    expect(refusals).toBe(1);
    expect(first.connected).toBe(false);
  });

  it("when the token expires", async () => {
    const user = await createUser();
    const token = await encode({ token: { sub: user.id, sv: 0 }, secret: process.env.NEXTAUTH_SECRET!, maxAge: 1 });
    const c = client(`next-auth.session-token=${token}`);
    await connected(c);
    await disconnectedAt(c, 2500);
    await expect(connected(client(`next-auth.session-token=${token}`))).rejects.toThrow("unauthorized");
  });
});

describe("socket.io handshake origin", () => {
  const poll = (origin?: string) =>
    fetch(`${servers[0]!.url}/socket.io/?EIO=4&transport=polling`, { headers: origin ? { origin } : {} }).then((r) => r.status);

  it("refuses a handshake from a foreign Origin, before the cookie is read", async () => {
    const user = await createUser();
    await expect(connected(client(await sessionCookie(user), { origin: "http://evil.example" }))).rejects.toThrow();
    await expect(connected(client(await sessionCookie(user), { origin: "http://localhost:3001" }))).rejects.toThrow();
    expect(await poll("http://evil.example")).toBe(403);
    expect(await poll("null")).toBe(403);
  });

  it("accepts the dashboard's own origin (NEXTAUTH_URL) and clients that send none", async () => {
    const user = await createUser();
    await connected(client(await sessionCookie(user), { origin: new URL(process.env.NEXTAUTH_URL!).origin }));
    await connected(client(await sessionCookie(user)));
    expect(await poll(new URL(process.env.NEXTAUTH_URL!).origin)).toBe(200);
    expect(await poll()).toBe(200);
  });
});
