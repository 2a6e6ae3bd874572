import "server-only";
import { Redis } from "ioredis";
import { env } from "@/env";
import { logger } from "./logger";

const globalForRedis = globalThis as unknown as { wyoloRedis?: Redis };

function connect(): Redis {
  // No offline queue: while Redis is down, commands fail at once (→ 503) instead of hanging.
  const client = new Redis(env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: false });
  client.on("error", (err: Error) => logger.warn({ err: { message: err.message } }, "redis error"));
  return client;
}

export const redis: Redis = globalForRedis.wyoloRedis ?? connect();
globalForRedis.wyoloRedis = redis;
