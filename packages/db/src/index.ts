import { randomBytes } from "node:crypto";
import { PrismaPg } from "@prisma/adapter-pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export * from "./generated/prisma/client.ts";

export type Db = ReturnType<typeof createDb>;

/** Creates a Prisma client over node-postgres. Password hashes are omitted unless asked for. */
export function createDb(databaseUrl: string, options: { poolSize?: number } = {}) {
  // A database that accepts connections but never answers must fail (→ 503), not hang requests.
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.poolSize ?? 10, connectionTimeoutMillis: 5_000 });
  return new PrismaClient({ adapter, omit: { user: { passwordHash: true } } });
}

/** The client handed to an interactive `$transaction` callback. */
export type DbTx = Parameters<Parameters<Db["$transaction"]>[0]>[0];

/**
 * An id for rows written with raw SQL on hot paths: "c" + time (base36) + 72 random bits (hex).
 * Lower-case letters and digits only, never digit-only, so it is safe as a BullMQ job id.
 */
export function newId(): string {
  return `c${Date.now().toString(36)}${randomBytes(9).toString("hex")}`;
}
export * from "./lifecycle.ts";
export * from "./errors.ts";
export * from "./model-registry.ts";
