import "server-only";
import { notFound, redirect } from "next/navigation";
import { AppError, isRedisDown } from "./errors";
import { isDatabaseUnavailable } from "./db-errors";
import { currentUser, type SessionUser } from "./auth/session";
import { logger } from "./logger";
import { markPageOutage, type UnavailableService } from "./page-outage";
import { UNAVAILABLE_DIGEST_PREFIX } from "@/lib/outage-message";

/**
 * A page that cannot be rendered because Postgres or Redis is down. Its digest is what the error
 * page reads (Next.js passes a server error's own digest to the client, never its message).
 */
export class ServiceUnavailablePageError extends Error {
  readonly digest: string;
  constructor(readonly service: UnavailableService) {
    super(service === "postgres" ? "The database (Postgres) is unavailable" : "Redis is unavailable");
    this.name = "ServiceUnavailablePageError";
    this.digest = `${UNAVAILABLE_DIGEST_PREFIX}${service}`;
  }
}

/** Which service an error says is down, if any. */
export function unavailableService(err: unknown): UnavailableService | null {
  if (err instanceof ServiceUnavailablePageError) return err.service;
  if (isDatabaseUnavailable(err)) return "postgres";
  if (isRedisDown(err)) return "redis";
  return null;
}

/** Loads data for a page: an outage becomes the "can't reach … — retrying" page (503), anything else is left to Next.js. */
export async function forPage<T>(load: Promise<T>): Promise<T> {
  try {
    return await load;
  } catch (err) {
    const service = unavailableService(err);
    if (!service) throw err;
    logger.error({ err: { message: (err as Error).message } }, `page: ${service} unavailable`);
    markPageOutage(service);
    throw err instanceof ServiceUnavailablePageError ? err : new ServiceUnavailablePageError(service);
  }
}

/** For pages open to anyone (sign-in, invitation links): the signed-in user or null. */
export function pageUser(): Promise<SessionUser | null> {
  return forPage(currentUser());
}

/** For pages: the signed-in user, or a redirect to sign-in that comes back here. */
export async function requirePageUser(returnTo: string): Promise<SessionUser> {
  const user = await pageUser();
  if (!user) redirect(`/signin?callbackUrl=${encodeURIComponent(returnTo)}`);
  return user;
}

/** Runs an access check for a page: NOT_FOUND renders the 404 page; FORBIDDEN too, since pages show only what a role may read. */
export async function orNotFound<T>(check: Promise<T>): Promise<T> {
  try {
    return await forPage(check);
  } catch (err) {
    if (err instanceof AppError && (err.code === "NOT_FOUND" || err.code === "FORBIDDEN")) notFound();
    throw err;
  }
}
