import { randomBytes } from "node:crypto";
import { afterAll } from "vitest";
import { Redis } from "ioredis";
import { workersKey } from "@wyolo/contracts";
import { dbUrl, templateName, withAdmin } from "./db";

// Every test file gets a database of its own, copied from the migrated template, and env that
// points the server modules at it before they are imported.
const database = `wyolo_it_${randomBytes(6).toString("hex")}`;
await withAdmin((c) => c.query(`CREATE DATABASE "${database}" TEMPLATE "${templateName()}"`));

process.env.DATABASE_URL = dbUrl(database);
process.env.NEXTAUTH_SECRET ??= randomBytes(32).toString("base64");
process.env.NEXTAUTH_URL ??= "http://localhost:3000";
process.env.LOG_LEVEL ??= "silent";
// Webhook URLs and signing secrets are encrypted with it (web and worker alike).
process.env.SECRETS_KEY ??= randomBytes(32).toString("base64");
// A queue of its own, so workers started by one file never take another file's jobs.
process.env.TRAINING_QUEUE = `it-${database}`;

afterAll(async () => {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${database}" WITH (FORCE)`));
  // The reports of this file's workers go with it.
  const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
    lazyConnect: true,
    maxRetriesPerRequest: 1,
    retryStrategy: () => null,
  });
  redis.on("error", () => {}); // a file that runs against a Redis that is down (on purpose) has nothing to clear
  await redis.del(workersKey(process.env.TRAINING_QUEUE!)).catch(() => {});
  redis.disconnect();
});
