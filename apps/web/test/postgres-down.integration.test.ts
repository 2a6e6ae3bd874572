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
});
