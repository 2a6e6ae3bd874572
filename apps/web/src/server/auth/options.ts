import "server-only";
import type { NextAuthOptions } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import { signInSchema } from "@wyolo/contracts";
import { env } from "@/env";
import { db } from "../db";
import { logger } from "../logger";
import { audit } from "../audit";
import { clientIp } from "../request-ip";
import { verifyPassword } from "./password";
import { clearAccountFailures, isLoginBlocked, recordLoginFailure } from "./rate-limit";

/** Shown for every failed sign-in, so it never tells whether an email has an account. */
export const SIGN_IN_FAILED = "Invalid email or password";
export const SIGN_IN_THROTTLED = "Too many failed attempts. Wait a few minutes and try again.";

type AuthorizedUser = { id: string; email: string; name: string; sessionVersion: number };

export async function authorizeCredentials(raw: unknown, ip: string): Promise<AuthorizedUser> {
  const parsed = signInSchema.safeParse(raw);
  if (!parsed.success) throw new Error(SIGN_IN_FAILED);
  const { email, password } = parsed.data;

  if (await isLoginBlocked(email, ip)) {
    logger.warn({ ip }, "sign-in throttled");
    throw new Error(SIGN_IN_THROTTLED);
  }
  const user = await db.user.findUnique({
    where: { email },
    select: { id: true, email: true, name: true, disabled: true, sessionVersion: true, passwordHash: true },
  });
  const ok = await verifyPassword(user?.passwordHash, password);
  if (!user || !ok || user.disabled) {
    await recordLoginFailure(email, ip);
    await audit(db, { actorId: user?.id ?? null, action: "auth.sign_in_failed", targetType: "user", targetId: user?.id, ip });
    throw new Error(SIGN_IN_FAILED);
  }
  await clearAccountFailures(email);
  await audit(db, { actorId: user.id, action: "auth.sign_in", targetType: "user", targetId: user.id, ip });
  return { id: user.id, email: user.email, name: user.name, sessionVersion: user.sessionVersion };
}

const providers: NextAuthOptions["providers"] = [
  CredentialsProvider({
    id: "credentials",
    name: "Email and password",
    credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
    authorize: async (credentials, req) => authorizeCredentials(credentials, clientIp(req.headers ?? {})),
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
    error: (code, meta) => logger.error({ code, meta: meta instanceof Error ? { message: meta.message } : undefined }, "next-auth error"),
    warn: (code) => logger.warn({ code }, "next-auth warning"),
    debug: () => {},
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
        }
      } else if (user && "sessionVersion" in user) {
        token.sub = user.id;
        token.sv = (user as AuthorizedUser).sessionVersion;
      }
      return token;
    },
    async session({ session, token }) {
      return { ...session, user: { ...session.user, id: token.sub } };
    },
  },
};
