// Shared by the web app (409/503 answers) and the worker (its own races), so Prisma's codes are read in one place.

// The shapes below were read off a real Prisma 6 client over @prisma/adapter-pg, pointed at a
// closed port, at a TCP proxy cut mid-query, and at a table with a unique index.
type AdapterCause = { kind?: string; code?: string; originalCode?: string };
type DbErrorShape = {
  code?: unknown;
  name?: unknown;
  message?: unknown;
  meta?: { driverAdapterError?: { cause?: AdapterCause } };
  cause?: unknown;
};

/** The driver adapter's own description of a failure (kind, Postgres code), wherever Prisma put it. */
function adapterCause(err: DbErrorShape): AdapterCause | undefined {
  if (err.meta?.driverAdapterError?.cause) return err.meta.driverAdapterError.cause;
  // What Prisma cannot map (kind "postgres", e.g. 57P01 at a server shutdown) comes through as the adapter's error itself.
  if (err.name === "DriverAdapterError" && typeof err.cause === "object" && err.cause !== null) return err.cause as AdapterCause;
  return undefined;
}

const asShape = (err: unknown): DbErrorShape | null => (typeof err === "object" && err !== null ? (err as DbErrorShape) : null);

/** A unique constraint hit: Prisma's P2002, or the same from a raw query (23505 through the adapter, or node-postgres). */
export function isUniqueViolation(err: unknown): boolean {
  const e = asShape(err);
  if (!e) return false;
  if (e.code === "P2002" || e.code === "23505") return true;
  const cause = adapterCause(e);
  return cause?.kind === "UniqueConstraintViolation" || cause?.originalCode === "23505";
}

// P1001 can't reach, P1002 timed out, P1008 socket timeout, P1017 closed, P2024 pool timeout, P2037 too many connections.
const UNAVAILABLE_PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024", "P2037"]);
const UNAVAILABLE_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
// Postgres: connection exceptions (08…), shutting down / starting up (57P01–57P03), too many connections (53300).
const UNAVAILABLE_PG_CODE = /^(08...|57P0[123]|53300)$/;
// node-postgres and its pool, when a connection dies under a query or cannot be had (the last:
// a server that accepts but never answers, once the pool has a connectionTimeoutMillis).
const UNAVAILABLE_MESSAGE =
  /Can't reach database server|Connection terminated unexpectedly|timeout exceeded when trying to connect|Connection terminated due to connection timeout/;

/** Postgres is down or unreachable (as opposed to refusing a query): the caller should try again later. */
export function isDatabaseUnavailable(err: unknown): boolean {
  const e = asShape(err);
  if (!e) return false;
  if (e.name === "PrismaClientInitializationError") return true;
  if (typeof e.code === "string" && UNAVAILABLE_PRISMA_CODES.has(e.code)) return true;
  const cause = adapterCause(e);
  if (cause && (UNAVAILABLE_KINDS.has(cause.kind ?? "") || UNAVAILABLE_PG_CODE.test(cause.code ?? cause.originalCode ?? ""))) return true;
  return typeof e.message === "string" && UNAVAILABLE_MESSAGE.test(e.message);
}
