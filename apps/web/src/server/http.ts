import "server-only";
import type { z } from "zod";
import { parse as parseYaml } from "yaml";
import { MAX_YAML_NESTING, yamlNestingExceeds } from "@wyolo/contracts";
import { env } from "@/env";
import { AppError, toErrorResponse, validationError } from "./errors";
import { userFromRequest, type SessionUser } from "./auth/session";
import { bearerToken } from "./tokens/token-secret";
import { withAuditToken } from "./audit";
import { clientIp } from "./request-ip";
import { jsonNestingExceeds, MAX_NESTING_DEPTH, unsafeInputFields, unsafeTextReason } from "./input-safety";

type Params = Record<string, string>;
type RouteContext = { params: Promise<Params> };

export type HandlerArgs<P extends Params> = { req: Request; params: P; ip: string };
export type AuthedArgs<P extends Params> = HandlerArgs<P> & { user: SessionUser };

export const JSON_TYPE = "application/json";
export const YAML_TYPES = ["application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml"] as const;
export const MAX_BODY_BYTES = 1_000_000;
export const MAX_CONFIG_BYTES = 100_000;

/**
 * What a route takes as a body: JSON unless it says otherwise (the config upload takes YAML too);
 * `sessionOnly`: refused to API tokens (minting tokens, changing the password).
 */
export type RouteOptions = { bodyTypes?: readonly string[]; sessionOnly?: boolean };

const STATE_CHANGING = new Set(["POST", "PUT", "PATCH", "DELETE"]);
const PARAM = /^[A-Za-z0-9_-]{1,128}$/;

async function readParams<P extends Params>(ctx: RouteContext | undefined): Promise<P> {
  const params = ((await ctx?.params) ?? {}) as P;
  // Ids and slugs only: anything else cannot name an object, so it is not found.
  for (const value of Object.values(params)) if (!PARAM.test(value)) throw new AppError("NOT_FOUND", "Not found");
  return params;
}

const dashboardOrigin = () => new URL(env.NEXTAUTH_URL).origin;

function mediaType(req: Request): string | null {
  const header = req.headers.get("content-type");
  return header ? header.split(";")[0]!.trim().toLowerCase() : null;
}

function contentLength(req: Request): number | null {
  const header = req.headers.get("content-length");
  const n = header === null ? NaN : Number(header);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

const tooLarge = (limit: number) => new AppError("PAYLOAD_TOO_LARGE", `Request body is larger than ${Math.round(limit / 1000)} kB`);
const unsupportedType = (types: readonly string[]) => new AppError("UNSUPPORTED_MEDIA_TYPE", `Send the body as ${types.join(" or ")}`);

/**
 * Checks every state-changing call before anything is read or looked up: its declared size
 * (413); CSRF: with cookies it must come from the dashboard's own pages (Origin, or
 * Sec-Fetch-Site where a browser sends no Origin), while without cookies there is no ambient
 * credential to abuse — nor with a Bearer header, which then is the only credential read (a
 * foreign page cannot set it without a CORS preflight); and a body must be one of the route's
 * types (415) — a form or text/plain POST is what a foreign page can send without a preflight.
 */
function checkStateChangingRequest(req: Request, bodyTypes: readonly string[]): void {
  if (!STATE_CHANGING.has(req.method.toUpperCase())) return;
  const length = contentLength(req);
  if (length !== null && length > MAX_BODY_BYTES) throw tooLarge(MAX_BODY_BYTES);
  if (req.headers.get("cookie") && bearerToken(req.headers.get("authorization")) === null) {
    const origin = req.headers.get("origin");
    const site = req.headers.get("sec-fetch-site");
    const sameOrigin = origin !== null ? origin === dashboardOrigin() : site === "same-origin" || site === "none";
    if (!sameOrigin) {
      throw new AppError(
        "FORBIDDEN",
        `Cross-origin request refused: a signed-in change is accepted only from the dashboard (${dashboardOrigin()})`,
      );
    }
  }
  const type = mediaType(req);
  const declaresBody = type !== null || (length ?? 0) > 0 || req.headers.has("transfer-encoding");
  if (declaresBody && (type === null || !bodyTypes.includes(type))) throw unsupportedType(bodyTypes);
}

function refuseToken(user: SessionUser | null, options: RouteOptions): void {
  if (user?.grant && options.sessionOnly)
    throw new AppError("FORBIDDEN", "An API token cannot do this: sign in to the dashboard and do it there");
}

/** A route open to anyone (sign-up by invitation, health). The session is resolved when present. */
export function publicRoute<P extends Params = Params>(
  fn: (args: HandlerArgs<P> & { user: SessionUser | null }) => Promise<Response>,
  options: RouteOptions = {},
) {
  return async (req: Request, ctx?: RouteContext): Promise<Response> => {
    try {
      checkStateChangingRequest(req, options.bodyTypes ?? [JSON_TYPE]);
      const params = await readParams<P>(ctx);
      const user = await userFromRequest(req);
      refuseToken(user, options);
      return await withAuditToken(user?.grant, () => fn({ req, params, ip: clientIp(req.headers), user }));
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}

/**
 * A route that needs a signed-in, enabled user (a session cookie or an API token). The permission itself is checked by the action
 * the handler calls (teamAccess / projectAccess), since it depends on the team of the object.
 */
export function withAuth<P extends Params = Params>(fn: (args: AuthedArgs<P>) => Promise<Response>, options: RouteOptions = {}) {
  return async (req: Request, ctx?: RouteContext): Promise<Response> => {
    try {
      checkStateChangingRequest(req, options.bodyTypes ?? [JSON_TYPE]);
      const user = await userFromRequest(req);
      if (!user) throw new AppError("UNAUTHENTICATED", "Sign in first");
      refuseToken(user, options);
      const params = await readParams<P>(ctx);
      return await withAuditToken(user.grant, () => fn({ req, params, ip: clientIp(req.headers), user }));
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}

/**
 * The body as text, counted while it streams and cut at `limit` bytes (413) whatever
 * Content-Length claimed, so a chunked body is never held whole. Empty → "".
 */
export async function readText(req: Request, opts: { limit?: number; types?: readonly string[] } = {}): Promise<string> {
  const { limit = MAX_BODY_BYTES, types = [JSON_TYPE] } = opts;
  const declared = contentLength(req);
  if (declared !== null && declared > limit) throw tooLarge(limit);
  const type = mediaType(req);
  if (type !== null && !types.includes(type)) throw unsupportedType(types);
  if (!req.body) return "";
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > limit) throw tooLarge(limit);
      chunks.push(value);
    }
  } catch (err) {
    await reader.cancel().catch(() => {});
    throw err instanceof AppError ? err : new AppError("BAD_REQUEST", "The request body could not be read");
  }
  if (total === 0) return "";
  if (type === null) throw unsupportedType(types);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.concat(chunks));
  } catch {
    throw new AppError("BAD_REQUEST", "The request body must be UTF-8 text");
  }
}

/**
 * Reads and validates a JSON body: too big → 413, not JSON → 415/400, nested deeper than
 * MAX_NESTING_DEPTH → 400 (checked on the text, before anything recurses), unstorable text or
 * a wrong shape → 422 with field messages. An empty body reads as `{}`.
 */
export async function readJson<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const text = await readText(req);
  if (jsonNestingExceeds(text)) throw new AppError("BAD_REQUEST", `Request body is nested more than ${MAX_NESTING_DEPTH} levels deep`);
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new AppError("BAD_REQUEST", "Request body must be valid JSON");
  }
  return parseWith(schema, data);
}

/** Validates input from outside: unstorable text (NUL, lone surrogates), `__proto__` keys and depth first, then the schema. */
export function parseWith<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const unsafe = unsafeInputFields(data);
  if (unsafe) throw new AppError("VALIDATION_FAILED", "Some fields are invalid", unsafe);
  const result = schema.safeParse(data);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  return parseWith(schema, Object.fromEntries(new URL(req.url).searchParams));
}

/**
 * Checks YAML text (a config, as an upload or a JSON string) the way a JSON body is checked,
 * before the config parser walks it: raw NUL, then the parsed document (escapes such as "\0",
 * depth, cycles made with aliases). A syntax error is left to the config parser, which names its line.
 */
export function checkYamlText(text: string, field: string): void {
  const reason = unsafeTextReason(text);
  if (reason) throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { [field]: [reason] });
  if (yamlNestingExceeds(text))
    throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { [field]: [`Nested more than ${MAX_YAML_NESTING} levels deep`] });
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 50 });
  } catch {
    return;
  }
  const unsafe = unsafeInputFields(doc, [field]);
  if (unsafe) throw new AppError("VALIDATION_FAILED", "Some fields are invalid", unsafe);
}

export const json = (data: unknown, status = 200) => Response.json(data, { status });
export const noContent = () => new Response(null, { status: 204 });
