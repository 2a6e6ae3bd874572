import { db } from "@/server/db";
import { redis } from "@/server/redis";
import { withTimeout } from "@/server/timeout";

export const dynamic = "force-dynamic";

// A dependency that does not answer in time is as down as one that refuses: a probe never hangs.
const PROBE_MS = 2_000;

/** Liveness + readiness: 200 when Postgres and Redis answer, 503 naming what does not. */
export async function GET() {
  const [postgres, redisOk] = await Promise.all([
    withTimeout(db.$queryRaw`SELECT 1`, PROBE_MS, "postgres probe").then(
      () => true,
      () => false,
    ),
    withTimeout(redis.ping(), PROBE_MS, "redis probe").then(
      () => true,
      () => false,
    ),
  ]);
  const ok = postgres && redisOk;
  const down = [!postgres && "the database (Postgres)", !redisOk && "Redis"].filter(Boolean);
  const message = ok ? "Wyolo is up" : `Wyolo can't reach ${down.join(" or ")}; retrying`;
  return Response.json(
    { status: ok ? "ok" : "degraded", postgres, redis: redisOk, message },
    { status: ok ? 200 : 503, headers: ok ? undefined : { "retry-after": "5" } },
  );
}
