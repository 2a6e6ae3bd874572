import net from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "@wyolo/db";
import { toErrorResponse } from "@/server/errors";
import { unavailableService } from "@/server/pages";

// A Postgres that accepts connections and never answers (a hung server, a half-open network
// path): node-postgres waits forever unless its pool has connectionTimeoutMillis; with it the
// failure must read as "database unavailable", like a refused connection.
const held = new Set<net.Socket>();
const hole = net.createServer((socket) => void held.add(socket));
await new Promise<void>((r) => hole.listen(0, "127.0.0.1", r));
const port = (hole.address() as net.AddressInfo).port;

afterAll(async () => {
  for (const socket of held) socket.destroy();
  await new Promise((r) => hole.close(r));
});

describe("a Postgres that never answers", () => {
  it("fails after the pool's connect timeout and answers 503 'The database is unavailable'", async () => {
    const db = new PrismaClient({
      adapter: new PrismaPg({ connectionString: `postgresql://postgres@127.0.0.1:${port}/hung`, connectionTimeoutMillis: 1_000 }),
    });
    const started = Date.now();
    const err = await db.$queryRaw`SELECT 1`.then(
      () => expect.fail("expected a timeout"),
      (e: unknown) => e,
    );
    expect(Date.now() - started).toBeLessThan(3_000);
    const res = toErrorResponse(err);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ error: { code: "SERVICE_UNAVAILABLE", message: "The database is unavailable; try again shortly" } });
    expect(unavailableService(err)).toBe("postgres");
  });
});
