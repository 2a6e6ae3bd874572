import "server-only";
import { createDb, type Db } from "@wyolo/db";
import { env } from "@/env";

const globalForDb = globalThis as unknown as { wyoloDb?: Db };

/** One Prisma client per process (kept on globalThis so dev hot reloads don't leak pools). */
export const db: Db = globalForDb.wyoloDb ?? createDb(env.DATABASE_URL);
if (env.NODE_ENV !== "production") globalForDb.wyoloDb = db;
