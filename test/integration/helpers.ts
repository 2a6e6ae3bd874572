import { randomBytes } from "node:crypto";
import { encode } from "next-auth/jwt";
import { db } from "@/server/db";
import { hashPassword } from "@wyolo/db/password";
import type { Role } from "@wyolo/contracts";

export const PASSWORD = "correct-horse-battery";

export function uniqueEmail(prefix = "user"): string {
  return `${prefix}-${randomBytes(4).toString("hex")}@example.test`;
}

export async function createUser(opts: { email?: string; name?: string; isPlatformAdmin?: boolean; password?: string } = {}) {
  return db.user.create({
    data: {
      email: (opts.email ?? uniqueEmail()).toLowerCase(),
      name: opts.name ?? "Test User",
      passwordHash: await hashPassword(opts.password ?? PASSWORD),
      isPlatformAdmin: opts.isPlatformAdmin ?? false,
    },
    select: { id: true, email: true, name: true, isPlatformAdmin: true, sessionVersion: true },
  });
}

export async function createTeamWith(members: { userId: string; role: Role }[], slug = `team-${randomBytes(6).toString("hex")}`) {
  const team = await db.team.create({ data: { name: `Team ${slug}`, slug }, select: { id: true, slug: true, name: true } });
  await db.membership.createMany({ data: members.map((m) => ({ teamId: team.id, userId: m.userId, role: m.role })) });
  return team;
}

/** A session cookie exactly as next-auth issues it (an encrypted JWT with our user id and session version). */
export async function sessionCookie(user: { id: string; sessionVersion?: number }): Promise<string> {
  const token = await encode({ token: { sub: user.id, sv: user.sessionVersion ?? 0 }, secret: process.env.NEXTAUTH_SECRET! });
  return `next-auth.session-token=${token}`;
}

type Handler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** The dashboard's own origin (NEXTAUTH_URL in per-file-setup.ts), which the browser client sends on every call. */
export const DASHBOARD_ORIGIN = "http://localhost:3000";

/**
 * Calls a route handler the way Next.js does: a Request, and params as a promise. It is sent as
 * the dashboard's pages send it (same Origin, JSON); `origin: null` or `contentType: null`
 * leaves the header out, `headers` adds or overrides any other, `query` goes into the URL.
 */
export async function call(
  handler: Handler,
  opts: {
    method?: string;
    params?: Record<string, string>;
    body?: unknown;
    rawBody?: string;
    cookie?: string;
    ip?: string;
    origin?: string | null;
    contentType?: string | null;
    headers?: Record<string, string>;
    query?: string;
  } = {},
): Promise<{ status: number; body: any }> {
  const headers = new Headers({ "x-wyolo-client-ip": opts.ip ?? "127.0.0.9" });
  if (opts.contentType !== null) headers.set("content-type", opts.contentType ?? "application/json");
  if (opts.origin !== null) headers.set("origin", opts.origin ?? DASHBOARD_ORIGIN);
  if (opts.cookie) headers.set("cookie", opts.cookie);
  for (const [name, value] of Object.entries(opts.headers ?? {})) headers.set(name, value);
  const body = opts.rawBody ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
  const url = `http://localhost:3000/api/test${opts.query ? `?${opts.query}` : ""}`;
  const req = new Request(url, { method: opts.method ?? (body ? "POST" : "GET"), headers, body });
  const res = await handler(req, { params: Promise.resolve(opts.params ?? {}) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}
