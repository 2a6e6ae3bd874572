import "server-only";
import { ERROR_STATUS, type ErrorCode, type ApiError } from "@wyolo/contracts";
import type { z } from "zod";
import { logger } from "./logger";
import { isDatabaseUnavailable, isUniqueViolation } from "./db-errors";
import { RETRY_SECONDS } from "@/lib/outage-message";

/** The one error type of the server: a code (→ HTTP status), a message a user may read, optional field messages. */
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly fields?: Record<string, string[]>,
  ) {
    super(message);
    this.name = "AppError";
  }
}

export const notFound = (what = "Not found") => new AppError("NOT_FOUND", what);
export const forbidden = (message = "Your role does not allow this") => new AppError("FORBIDDEN", message);

export function validationError(error: z.ZodError, message = "Some fields are invalid"): AppError {
  const fields: Record<string, string[]> = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".") || "_";
    (fields[key] ??= []).push(issue.message);
  }
  return new AppError("VALIDATION_FAILED", message, fields);
}

/**
 * ioredis without an offline queue (or a withTimeout) while Redis is down or unreachable; a
 * command in flight when the connection dropped ends as MaxRetriesPerRequestError.
 */
export function isRedisDown(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err.name === "MaxRetriesPerRequestError") return true;
  return /Stream isn't writeable|enableOfflineQueue|ECONNREFUSED|Connection is closed|max retries per request/i.test(err.message);
}

/**
 * Maps any thrown value to the API's error body. A dependency that is down answers 503, a unique
 * index hit by a parallel request 409 (actions that expect races map them themselves, with a
 * better message); anything else is logged and answered 500 without internals.
 */
export function toErrorResponse(err: unknown): Response {
  let appError: AppError;
  let outage = false;
  if (err instanceof AppError) {
    appError = err;
  } else if (isDatabaseUnavailable(err)) {
    logger.error({ err }, "postgres unavailable");
    appError = new AppError("SERVICE_UNAVAILABLE", "The database is unavailable; try again shortly");
    outage = true;
  } else if (isUniqueViolation(err)) {
    logger.warn({ err }, "unmapped unique violation");
    appError = new AppError("CONFLICT", "This conflicts with a change made at the same time; reload and try again");
  } else if (isRedisDown(err)) {
    logger.error({ err }, "redis unavailable");
    appError = new AppError("SERVICE_UNAVAILABLE", "Redis is unavailable; try again shortly");
    outage = true;
  } else {
    logger.error({ err }, "unhandled error");
    appError = new AppError("INTERNAL", "Something went wrong on our side");
  }
  const body: ApiError = {
    error: { code: appError.code, message: appError.message, ...(appError.fields ? { fields: appError.fields } : {}) },
  };
  // A refused body is never read (or not to its end): closing the connection stops the client
  // sending it, where a kept-alive connection would have the server read and discard all of it.
  const headers: Record<string, string> =
    appError.code === "PAYLOAD_TOO_LARGE" || appError.code === "UNSUPPORTED_MEDIA_TYPE" ? { connection: "close" } : {};
  // Postgres or Redis down is usually over within seconds: clients and proxies may retry then.
  if (outage) headers["retry-after"] = String(RETRY_SECONDS);
  return Response.json(body, { status: ERROR_STATUS[appError.code], headers });
}
