import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it, onTestFinished } from "vitest";
import { ownRedis } from "./outages";
import { startPgProxy } from "../../../test/integration/pg-proxy";

// Pages while Postgres (a TCP proxy this file cuts) or Redis (a redis-server of its own, killed)
// is away: the error a page throws names the service for the error page, and the custom server's
// wrapper turns Next.js's 500 into 503 + Retry-After. Next.js itself is not started here (that
// needs a build); a stand-in handler does what Next.js does with an error before the first byte.
const postgres = await startPgProxy(process.env.DATABASE_URL!);
process.env.DATABASE_URL = postgres.url;
const redisServer = await ownRedis();
process.env.REDIS_URL = redisServer.url;

const { db } = await import("@/server/db");
const { redis } = await import("@/server/redis");
const { forPage, orNotFound, ServiceUnavailablePageError } = await import("@/server/pages");
const { handleWithOutageStatus } = await import("@/server/page-outage");
const { AppError } = await import("@/server/errors");
const { outageMessage } = await import("@/lib/outage-message");

const servers: Server[] = [];
afterAll(async () => {
  for (const s of servers) await new Promise((r) => s.close(r));
  await postgres.cut();
  await redisServer.kill();
});

/** A server whose "page" loads `load` through forPage and, on an error, answers as Next.js does before the first byte: 500 and an empty error document. */
async function pageServer(load: () => Promise<unknown>): Promise<string> {
  const server = createServer(
    (req, res) =>
      void handleWithOutageStatus(req, res, async (_req, res) => {
        try {
          await forPage(load());
          res.statusCode = 200;
          res.end("<html><body>the page</body></html>");
        } catch {
          res.statusCode = 500;
          res.end('<html id="__next_error__"><head></head><body></body></html>');
        }
      }),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

async function thrown(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail("expected an error"),
    (err: unknown) => err,
  );
}

describe("a page while Postgres is away", () => {
  it("throws an error whose digest names the database, and the error page says so without internals", async () => {
    await postgres.cut();
    onTestFinished(() => postgres.restore());
    const err = await thrown(forPage(db.user.count()));
    expect(err).toBeInstanceOf(ServiceUnavailablePageError);
    expect((err as { digest: string }).digest).toBe("WYOLO_UNAVAILABLE:postgres");
    expect(outageMessage((err as { digest: string }).digest)).toBe("Wyolo can't reach its database (Postgres) — retrying");
    // An access check (orNotFound) maps the same way rather than to a 404.
    expect(await thrown(orNotFound(db.team.findFirstOrThrow()))).toBeInstanceOf(ServiceUnavailablePageError);
  });

  it("is answered 503 with Retry-After, and 200 again as soon as Postgres is back", async () => {
    const url = await pageServer(() => db.user.count());
    expect((await fetch(url)).status).toBe(200);
    await postgres.cut();
    onTestFinished(() => postgres.restore());
    const down = await fetch(url);
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
    expect(down.headers.get("cache-control")).toBe("no-store");
    await postgres.restore();
    const started = performance.now();
    expect((await fetch(url)).status).toBe(200);
    console.log(`page served again ${Math.round(performance.now() - started)} ms after Postgres came back`);
  });
});

describe("a page while Redis is away", () => {
  it("names Redis and is answered 503; 200 again once Redis is back", async () => {
    const url = await pageServer(() => redis.get("wyolo:page-probe"));
    expect((await fetch(url)).status).toBe(200);
    await redisServer.kill();
    onTestFinished(() => redisServer.start());
    const err = await thrown(forPage(redis.get("wyolo:page-probe")));
    expect(outageMessage((err as { digest: string }).digest)).toBe("Wyolo can't reach Redis — retrying");
    expect((await fetch(url)).status).toBe(503);
    await redisServer.start();
    const started = performance.now();
    for (;;) {
      if ((await fetch(url)).status === 200) break;
      expect(performance.now() - started).toBeLessThan(5_000);
      await new Promise((r) => setTimeout(r, 50));
    }
    console.log(`page served again ${Math.round(performance.now() - started)} ms after Redis came back`);
  });
});

describe("any other error on a page", () => {
  it("stays Next.js's own: a not-found check renders the 404 page, a bug stays a 500 whose message never reaches the browser", async () => {
    const notFound = await thrown(orNotFound(Promise.reject(new AppError("NOT_FOUND", "Not found"))));
    expect((notFound as { digest: string }).digest).toMatch(/^NEXT_HTTP_ERROR_FALLBACK;404/);
    const bug = new Error("secret internals");
    expect(await thrown(forPage(Promise.reject(bug)))).toBe(bug);
    expect((await fetch(await pageServer(() => Promise.reject(bug)))).status).toBe(500);
    // Next.js gives a client error page a hash as the digest of any other error: no outage text, no message.
    expect(outageMessage("1234567890")).toBeNull();
    expect(outageMessage(undefined)).toBeNull();
    expect(outageMessage("WYOLO_UNAVAILABLE:<script>")).toBeNull();
  });
});
