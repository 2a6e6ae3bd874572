import "server-only";
import { decode } from "next-auth/jwt";
import { env } from "@/env";
import { db } from "../db";

export type SessionUser = {
  id: string;
  email: string;
  name: string;
  isPlatformAdmin: boolean;
};

export const SESSION_COOKIE = env.NEXTAUTH_URL.startsWith("https://")
  ? "__Secure-next-auth.session-token"
  : "next-auth.session-token";

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

/**
 * The user behind a session token, checked against the database on every request: a disabled
 * user, or a token from before a password change (sessionVersion), gets no session.
 */
export async function userFromSessionToken(token: string | null): Promise<SessionUser | null> {
  if (!token) return null;
  const payload = await decode({ token, secret: env.NEXTAUTH_SECRET }).catch(() => null);
  if (!payload?.sub || typeof payload.sv !== "number") return null;
  // Raw on purpose: every request runs it, and it is a primary-key lookup.
  const [user] = await db.$queryRaw<{ id: string; email: string; name: string; isPlatformAdmin: boolean; disabled: boolean; sessionVersion: number }[]>`
    SELECT "id", "email", "name", "isPlatformAdmin", "disabled", "sessionVersion" FROM "User" WHERE "id" = ${payload.sub}`;
  if (!user || user.disabled || user.sessionVersion !== payload.sv) return null;
  return { id: user.id, email: user.email, name: user.name, isPlatformAdmin: user.isPlatformAdmin };
}

export function userFromCookieHeader(header: string | null | undefined): Promise<SessionUser | null> {
  return userFromSessionToken(readSessionToken(parseCookies(header ?? null)));
}

export function userFromRequest(req: Request): Promise<SessionUser | null> {
  return userFromCookieHeader(req.headers.get("cookie"));
}

/** For server components and server actions. */
export async function currentUser(): Promise<SessionUser | null> {
  const { cookies } = await import("next/headers");
  const store = await cookies();
  const map = new Map(store.getAll().map((c) => [c.name, c.value] as const));
  return userFromSessionToken(readSessionToken(map));
}
