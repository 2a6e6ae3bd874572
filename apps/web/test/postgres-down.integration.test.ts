import type net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { startPgProxy } from "../../../test/integration/pg-proxy";

// This file's web modules reach Postgres through a TCP proxy the test cuts and restores: the
// outage is real (connections refused, a connection dropped under a query), nothing is mocked.
const pg = await startPgProxy(process.env.DATABASE_URL!);
process.env.DATABASE_URL = pg.url;
const { cut, restore } = pg;

afterAll(() => pg.cut());

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
    pg.dropConnections();
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
      await restore();
      await realtime.close();
      await new Promise((r) => http.close(r));
    }
  });
});
