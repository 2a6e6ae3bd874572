import "server-only";
import type { z } from "zod";
import { AppError, toErrorResponse, validationError } from "./errors";
import { userFromRequest, type SessionUser } from "./auth/session";
import { clientIp } from "./request-ip";

type Params = Record<string, string>;
type RouteContext = { params: Promise<Params> };

export type HandlerArgs<P extends Params> = { req: Request; params: P; ip: string };
export type AuthedArgs<P extends Params> = HandlerArgs<P> & { user: SessionUser };

const PARAM = /^[A-Za-z0-9_-]{1,128}$/;

async function readParams<P extends Params>(ctx: RouteContext | undefined): Promise<P> {
  const params = ((await ctx?.params) ?? {}) as P;
  // Ids and slugs only: anything else cannot name an object, so it is not found.
  for (const value of Object.values(params)) if (!PARAM.test(value)) throw new AppError("NOT_FOUND", "Not found");
  return params;
}

/** A route open to anyone (sign-up by invitation, health). The session is resolved when present. */
export function publicRoute<P extends Params = Params>(
  fn: (args: HandlerArgs<P> & { user: SessionUser | null }) => Promise<Response>,
) {
  return async (req: Request, ctx?: RouteContext): Promise<Response> => {
    try {
      const params = await readParams<P>(ctx);
      return await fn({ req, params, ip: clientIp(req.headers), user: await userFromRequest(req) });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}

/**
 * A route that needs a signed-in, enabled user. The permission itself is checked by the action
 * the handler calls (teamAccess / projectAccess), since it depends on the team of the object.
 */
export function withAuth<P extends Params = Params>(fn: (args: AuthedArgs<P>) => Promise<Response>) {
  return async (req: Request, ctx?: RouteContext): Promise<Response> => {
    try {
      const user = await userFromRequest(req);
      if (!user) throw new AppError("UNAUTHENTICATED", "Sign in first");
      const params = await readParams<P>(ctx);
      return await fn({ req, params, ip: clientIp(req.headers), user });
    } catch (err) {
      return toErrorResponse(err);
    }
  };
}

const MAX_BODY_BYTES = 1_000_000;

/** Reads and validates a JSON body: not JSON → 400, wrong shape → 422 with field messages. */
export async function readJson<S extends z.ZodType>(req: Request, schema: S): Promise<z.infer<S>> {
  const text = await req.text();
  if (text.length > MAX_BODY_BYTES) throw new AppError("BAD_REQUEST", "Request body is too large");
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : {};
  } catch {
    throw new AppError("BAD_REQUEST", "Request body must be valid JSON");
  }
  return parseWith(schema, data);
}

export function parseWith<S extends z.ZodType>(schema: S, data: unknown): z.infer<S> {
  const result = schema.safeParse(data);
  if (!result.success) throw validationError(result.error);
  return result.data;
}

export function readQuery<S extends z.ZodType>(req: Request, schema: S): z.infer<S> {
  return parseWith(schema, Object.fromEntries(new URL(req.url).searchParams));
}

export const json = (data: unknown, status = 200) => Response.json(data, { status });
export const noContent = () => new Response(null, { status: 204 });
