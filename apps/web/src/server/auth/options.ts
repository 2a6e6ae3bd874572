import "server-only";
import { randomUUID } from "node:crypto";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { signInSchema } from "@wyolo/contracts";
import { env } from "@/env";
import { db } from "../db";
import { logger } from "../logger";
import { audit } from "../audit";
import { clientIp } from "../request-ip";
import { verifyPassword } from "./password";
import { beginLoginAttempt } from "./rate-limit";
import { sessionFromClaims } from "./session";
import { signOutSession } from "./sign-out";
import { isDatabaseUnavailable } from "../db-errors";
import { isRedisDown } from "../errors";

/** Shown for every failed sign-in, so it never tells whether an email has an account. */
export const SIGN_IN_FAILED = "Invalid email or password";
/** Shown whichever limit was hit, so it never tells which. */
export const SIGN_IN_THROTTLED = "Too many failed attempts. Wait a few minutes and try again.";
// Thrown by the jwt callback when next-auth refreshes a token whose session has ended.
const SESSION_ENDED = "session ended";

type AuthorizedUser = { id: string; email: string; name: string; sessionVersion: number };

export async function authorizeCredentials(raw: unknown, ip: string): Promise<AuthorizedUser> {
  const parsed = signInSchema.safeParse(raw);
  if (!parsed.success) throw new Error(SIGN_IN_FAILED);
  const { email, password } = parsed.data;

  const attempt = await beginLoginAttempt(email, ip);
  if (!attempt.allowed) {
    logger.warn({ ip }, "sign-in throttled");
    throw new Error(SIGN_IN_THROTTLED);
  }
  const user = await db.user.findUnique({
    where: { email },
    select: { id: true, email: true, name: true, disabled: true, sessionVersion: true, passwordHash: true },
  });
  const ok = await verifyPassword(user?.passwordHash, password);
  if (!user || !ok || user.disabled) {
    await audit(db, { actorId: user?.id ?? null, action: "auth.sign_in_failed", targetType: "user", targetId: user?.id, ip });
    throw new Error(SIGN_IN_FAILED);
  }
  await attempt.succeeded();
  await audit(db, { actorId: user.id, action: "auth.sign_in", targetType: "user", targetId: user.id, ip });
  return { id: user.id, email: user.email, name: user.name, sessionVersion: user.sessionVersion };
}

/**
 * next-auth sends the message of an error thrown here to the browser: only our own messages go
 * through; an outage is named, anything else (Prisma's text names files and hosts) is not shown.
 */
function signInError(err: unknown): never {
  if (err instanceof Error && (err.message === SIGN_IN_FAILED || err.message === SIGN_IN_THROTTLED)) throw err;
  const down = isDatabaseUnavailable(err) ? "its database (Postgres)" : isRedisDown(err) ? "Redis" : null;
  logger.error({ err }, down ? "sign-in: a service is unavailable" : "sign-in failed unexpectedly");
  throw new Error(down ? `Wyolo can't reach ${down}; try again shortly` : "Sign-in failed on our side; try again shortly");
}

const providers: NextAuthOptions["providers"] = [
  CredentialsProvider({
    id: "credentials",
    name: "Email and password",
    credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
    authorize: async (credentials, req) => authorizeCredentials(credentials, clientIp(req.headers ?? {})).catch(signInError),
  }),
];

if (env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET) {
  providers.push({
    id: "oidc",
    name: env.OIDC_NAME,
    type: "oauth",
    wellKnown: `${env.OIDC_ISSUER.replace(/\/$/, "")}/.well-known/openid-configuration`,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    authorization: { params: { scope: "openid email profile" } },
    idToken: true,
    checks: ["pkce", "state"],
    profile: (p: { sub: string; email?: string; name?: string }) => ({ id: p.sub, email: p.email ?? "", name: p.name ?? p.email ?? "" }),
  });
}

export const oidcEnabled = providers.length > 1;

export const authOptions: NextAuthOptions = {
  secret: env.NEXTAUTH_SECRET,
  session: { strategy: "jwt", maxAge: env.SESSION_MAX_AGE_HOURS * 3600 },
  pages: { signIn: "/signin", error: "/signin" },
  providers,
  logger: {
    error: (code, meta) => {
      // An ended session asking for a refresh is expected; next-auth clears its cookie.
      if (meta instanceof Error && meta.message === SESSION_ENDED) return logger.info({ code }, "ended session refused");
      logger.error({ code, meta: meta instanceof Error ? { message: meta.message } : undefined }, "next-auth error");
    },
    warn: (code) => logger.warn({ code }, "next-auth warning"),
    debug: () => {},
  },
  events: {
    // next-auth's sign-out only clears the cookie; this makes the token itself stop working.
    signOut: ({ token }) => signOutSession(token),
  },
  callbacks: {
    // Sign-up is by invitation only: an OIDC login must match an existing, enabled account.
    async signIn({ account, user }) {
      if (account?.provider !== "oidc") return true;
      const email = user.email?.toLowerCase();
      if (!email) return false;
      const existing = await db.user.findUnique({ where: { email }, select: { disabled: true } });
      return !!existing && !existing.disabled;
    },
    async jwt({ token, user, account }) {
      if (account?.provider === "oidc" && user?.email) {
        const dbUser = await db.user.findUnique({ where: { email: user.email.toLowerCase() }, select: { id: true, sessionVersion: true } });
        if (dbUser) {
          token.sub = dbUser.id;
          token.sv = dbUser.sessionVersion;
          token.sid = randomUUID();
        }
      } else if (user && "sessionVersion" in user) {
        token.sub = user.id;
        token.sv = (user as AuthorizedUser).sessionVersion;
        token.sid = randomUUID();
      } else {
        // A refresh (next-auth re-encodes the token with a later expiry): never for an ended
        // session, or a revoked token could outlive its revocation row.
        if (!(await sessionFromClaims(token))) throw new Error(SESSION_ENDED);
        // Tokens from before `sid` keep the id sign-out would revoke: their current jti.
        token.sid ??= token.jti;
      }
      return token;
    },
    async session({ session, token }) {
      return { ...session, user: { ...session.user, id: token.sub } };
    },
  },
};
