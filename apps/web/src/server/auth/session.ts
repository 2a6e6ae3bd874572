import "server-only";
import { decode } from "next-auth/jwt";
import type { TokenGrant } from "@wyolo/contracts";
import { env } from "@/env";
import { db } from "../db";
import { clientIp } from "../request-ip";
import { bearerToken } from "../tokens/token-secret";
import { sessionFromBearer } from "./bearer";

export type SessionUser = {
  id: string;
  email: string;
  name: string;
  isPlatformAdmin: boolean;
  /** Present when the caller authenticated with an API token: the access checks narrow the role by it. */
  grant?: TokenGrant;
};

export const SESSION_COOKIE = env.NEXTAUTH_URL.startsWith("https://") ? "__Secure-next-auth.session-token" : "next-auth.session-token";

function parseCookies(header: string | null): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    try {
      out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A malformed cookie is ignored, never a crash.
    }
  }
  return out;
}

/** next-auth splits large tokens into `name.0`, `name.1`, … cookies. */
export function readSessionToken(cookies: Map<string, string>): string | null {
  const whole = cookies.get(SESSION_COOKIE);
  if (whole) return whole;
  const chunks: string[] = [];
  for (let i = 0; cookies.has(`${SESSION_COOKIE}.${i}`); i++) chunks.push(cookies.get(`${SESSION_COOKIE}.${i}`)!);
  return chunks.length ? chunks.join("") : null;
}

/** The claims of a session token that Wyolo reads. */
export type SessionClaims = { sub?: string; sv?: unknown; sid?: unknown; jti?: unknown; exp?: unknown };

export type Session = {
  user: SessionUser;
  /** What sign-out revokes and what the session's sockets are grouped by; null for a token without one. */
  sessionId: string | null;
  /** Unix seconds. */
  expiresAt: number | null;
};

/**
 * `sid` is set at sign-in and kept when next-auth re-encodes the token (which gives it a new
 * `jti` each time); tokens from before it, and the tests' tokens, fall back to their `jti`.
 */
export function sessionIdOf(claims: SessionClaims): string | null {
  const id = typeof claims.sid === "string" && claims.sid ? claims.sid : claims.jti;
  return typeof id === "string" && id ? id : null;
}

/**
 * The session behind decoded token claims, checked against the database every time: a disabled
 * user, a token from before a password change (sessionVersion) or a signed-out session gets none.
 */
export async function sessionFromClaims(claims: SessionClaims | null): Promise<Session | null> {
  if (!claims?.sub || typeof claims.sv !== "number") return null;
  // jose allows 15 s of clock skew; a socket ended at expiry must not be let back in meanwhile.
  if (typeof claims.exp === "number" && claims.exp * 1000 <= Date.now()) return null;
  const sessionId = sessionIdOf(claims);
  // Raw on purpose: every request runs it; one round trip for the user and the revocation.
  const [user] = await db.$queryRaw<
    { id: string; email: string; name: string; isPlatformAdmin: boolean; disabled: boolean; sessionVersion: number; revoked: boolean }[]
  >`
    SELECT "id", "email", "name", "isPlatformAdmin", "disabled", "sessionVersion",
      EXISTS (SELECT 1 FROM "RevokedSession" WHERE "id" = ${sessionId}::text) AS "revoked"
    FROM "User" WHERE "id" = ${claims.sub}`;
  if (!user || user.disabled || user.revoked || user.sessionVersion !== claims.sv) return null;
  return {
    user: { id: user.id, email: user.email, name: user.name, isPlatformAdmin: user.isPlatformAdmin },
    sessionId,
    expiresAt: typeof claims.exp === "number" ? claims.exp : null,
  };
}

export async function sessionFromToken(token: string | null): Promise<Session | null> {
  if (!token) return null;
  return sessionFromClaims(await decode({ token, secret: env.NEXTAUTH_SECRET }).catch(() => null));
}

export async function userFromSessionToken(token: string | null): Promise<SessionUser | null> {
  return (await sessionFromToken(token))?.user ?? null;
}

export function sessionFromCookieHeader(header: string | null | undefined): Promise<Session | null> {
  return sessionFromToken(readSessionToken(parseCookies(header ?? null)));
}

export async function userFromCookieHeader(header: string | null | undefined): Promise<SessionUser | null> {
  return (await sessionFromCookieHeader(header))?.user ?? null;
}

/** The credentials a request or a socket handshake may carry. */
export type Credentials = { authorization?: string | null; cookie?: string | null; ip: string };

/**
 * A Bearer token wins over a cookie (and a bad one is a 401 naming the problem, never a fall
 * back to the cookie); without one, the session cookie. No credentials → null.
 */
export function sessionFromCredentials(creds: Credentials): Promise<Session | null> {
  const token = bearerToken(creds.authorization);
  if (token !== null) return sessionFromBearer(token, creds.ip);
  return sessionFromCookieHeader(creds.cookie);
}

export async function userFromRequest(req: Request): Promise<SessionUser | null> {
  const { headers } = req;
  return (
    (await sessionFromCredentials({ authorization: headers.get("authorization"), cookie: headers.get("cookie"), ip: clientIp(headers) }))
      ?.user ?? null
  );
}

/** For server components and server actions. */
export async function currentUser(): Promise<SessionUser | null> {
  const { cookies } = await import("next/headers");
  const store = await cookies();
  const map = new Map(store.getAll().map((c) => [c.name, c.value] as const));
  return userFromSessionToken(readSessionToken(map));
}
