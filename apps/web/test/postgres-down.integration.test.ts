import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";

// This file's web modules reach Postgres through a TCP proxy the test cuts and restores: the
// outage is real (connections refused, a connection dropped under a query), nothing is mocked.
const target = new URL(process.env.DATABASE_URL!);
const sockets = new Set<net.Socket>();
const proxy = net.createServer((client) => {
  const upstream = net.connect(Number(target.port || 5432), target.hostname);
  for (const s of [client, upstream]) {
    sockets.add(s);
    s.on("error", () => {});
    s.on("close", () => (client.destroy(), upstream.destroy(), sockets.delete(s)));
  }
  client.pipe(upstream).pipe(client);
});
await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
const port = (proxy.address() as net.AddressInfo).port;
process.env.DATABASE_URL = Object.assign(new URL(target), { hostname: "127.0.0.1", port: String(port) }).toString();

async function cut() {
  const closed = new Promise<void>((resolve) => proxy.close(() => resolve()));
  for (const s of sockets) s.destroy();
  await closed;
}
const restore = () => new Promise<void>((resolve) => proxy.listen(port, "127.0.0.1", resolve));

afterAll(async () => {
  if (proxy.listening) await cut();
});

describe("Postgres down", () => {
  it("answers 503 at once on every kind of route while Postgres is away, and works again when it is back", async () => {
    const { db } = await import("@/server/db");
    const meRoute = await import("@/app/api/v1/me/route");
    const teamsRoute = await import("@/app/api/v1/teams/route");
    const previewRoute = await import("@/app/api/v1/invitations/preview/route");
    const { call, createUser, sessionCookie } = await import("../../../test/integration/helpers");
    const user = await createUser();
    const cookie = await sessionCookie(user);
    expect((await call(meRoute.GET, { cookie })).status).toBe(200);

    await cut();
    for (const request of [
      () => call(meRoute.GET, { cookie }),
      () => call(teamsRoute.POST, { cookie, body: { name: "While down" } }),
      () => call(previewRoute.POST, { body: { token: "x".repeat(40) } }),
    ]) {
      const started = Date.now();
      const res = await request();
      expect(Date.now() - started).toBeLessThan(2_000);
      expect(res.status).toBe(503);
      expect(res.body.error).toEqual({ code: "SERVICE_UNAVAILABLE", message: "The database is unavailable; try again shortly" });
    }

    await restore();
    expect((await call(meRoute.GET, { cookie })).status).toBe(200);
    expect(await db.team.count({ where: { name: "While down" } })).toBe(0);
  });

  it("maps a connection dropped under a running query to 503 too", async () => {
    const { db } = await import("@/server/db");
    const { toErrorResponse } = await import("@/server/errors");
    const running = db.$queryRaw`SELECT pg_sleep(2)`.then(
      () => null,
      (err: unknown) => err,
    );
    await new Promise((r) => setTimeout(r, 300));
    for (const s of sockets) s.destroy();
    const err = await running;
    expect(err).toBeInstanceOf(Error);
    expect(toErrorResponse(err).status).toBe(503);
  });

  it("tells a socket that subscribes during the outage 'Unavailable' and drops it, so the client comes back later", async () => {
    const { createServer } = await import("node:http");
    const { io: connect } = await import("socket.io-client");
    const { attachRealtime } = await import("@/realtime/socket-server");
    const { createUser, sessionCookie } = await import("../../../test/integration/helpers");
    const http = createServer();
    const realtime = attachRealtime(http, process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    await new Promise<void>((r) => http.listen(0, "127.0.0.1", r));
    const cookie = await sessionCookie(await createUser());
    const socket = connect(`http://127.0.0.1:${(http.address() as net.AddressInfo).port}`, {
      transports: ["websocket"],
      extraHeaders: { cookie },
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => (socket.once("connect", resolve), socket.once("connect_error", reject)));
      await cut();
      const dropped = new Promise<string>((resolve) => socket.once("disconnect", resolve));
      const ack = await socket.timeout(5_000).emitWithAck("subscribe", { projectId: "someproject" });
      expect(ack).toEqual({ ok: false, error: "Unavailable" });
      expect(await dropped).toBe("io server disconnect");
    } finally {
      socket.close();
      if (!proxy.listening) await restore();
      await realtime.close();
      await new Promise((r) => http.close(r));
    }
  });
});
