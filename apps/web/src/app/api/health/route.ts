import { db } from "@/server/db";
import { redis } from "@/server/redis";

export const dynamic = "force-dynamic";

/** Liveness + readiness: 200 when Postgres and Redis answer, 503 naming what does not. */
export async function GET() {
  const [postgres, redisOk] = await Promise.all([
    db.$queryRaw`SELECT 1`.then(() => true, () => false),
    redis.ping().then(() => true, () => false),
  ]);
  const ok = postgres && redisOk;
  return Response.json({ status: ok ? "ok" : "degraded", postgres, redis: redisOk }, { status: ok ? 200 : 503 });
}
