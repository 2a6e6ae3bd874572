import { afterAll, describe, expect, it } from "vitest";
import { Redis } from "ioredis";
import { ownRedis } from "./outages";

// The errors a real ioredis client gives when Redis goes away, each mapped to 503 naming Redis:
// refused at once (no offline queue) and a command in flight when the server died.
const redisServer = await ownRedis();
process.env.REDIS_URL = redisServer.url;
const { toErrorResponse, isRedisDown } = await import("@/server/errors");
const { unavailableService } = await import("@/server/pages");

afterAll(() => redisServer.kill());

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail("expected the command to fail"),
    (err: unknown) => err,
  );
}

describe("Redis errors", () => {
  it("a command in flight when Redis dies, and one sent while it is away, both answer 503 naming Redis", async () => {
    // The web app's client settings (server/redis.ts).
    const client = new Redis(redisServer.url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
    client.on("error", () => {});
    await new Promise((r) => client.once("ready", r));
    const inFlight = failure(client.blpop("wyolo:never", 5));
    await new Promise((r) => setTimeout(r, 100));
    await redisServer.kill();
    const errors = [await inFlight, await failure(client.get("x"))];
    expect((errors[0] as Error).name).toBe("MaxRetriesPerRequestError");
    for (const err of errors) {
      expect(isRedisDown(err)).toBe(true);
      expect(unavailableService(err)).toBe("redis");
      const res = toErrorResponse(err);
      expect(res.status).toBe(503);
      expect(res.headers.get("retry-after")).toBe("5");
      expect(await res.json()).toEqual({ error: { code: "SERVICE_UNAVAILABLE", message: "Redis is unavailable; try again shortly" } });
    }
    client.disconnect();
  });

  it("an unrelated error is not taken for Redis", () => {
    expect(isRedisDown(new Error("fetch failed"))).toBe(false);
    expect(isRedisDown("Connection is closed")).toBe(false);
  });
});
