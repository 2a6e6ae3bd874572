import "server-only";
import { TOKEN_SCOPES, type TokenGrant, type TokenScope } from "@wyolo/contracts";
import { db } from "../db";
import { AppError } from "../errors";
import { logger } from "../logger";
import { hashApiToken, isTokenShaped } from "../tokens/token-secret";
import type { Session } from "./session";

/** lastUsedAt/lastUsedIp are written at most this often per token (and when the address changes). */
export const LAST_USED_EVERY_MS = 60_000;

/** What the sockets of one token are grouped by, so revoking it can disconnect them (like a sign-out). */
export const tokenSessionId = (tokenId: string) => `token:${tokenId}`;

const unauthenticated = (message: string) => new AppError("UNAUTHENTICATED", message);

type TokenRow = {
  id: string;
  kind: "PERSONAL" | "SERVICE";
  scopes: string[];
  teamId: string | null;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
  lastUsedIp: string | null;
  userId: string;
  email: string;
  name: string;
  isPlatformAdmin: boolean;
  disabled: boolean;
};

/**
 * The caller behind an API token, or a 401 that says what is wrong with it. A token acts as its
 * user (a service token as its service account) with a grant the access checks apply on top of
 * the role: its scopes, and its team. Platform-admin rights come through only a personal token
 * with the `admin` scope that is not narrowed to a team.
 */
export async function sessionFromBearer(token: string, ip: string): Promise<Session> {
  if (!token) throw unauthenticated("The Authorization header has no token: send `Bearer wyolo_…`");
  if (!isTokenShaped(token)) throw unauthenticated("That is not a Wyolo API token (they start with wyolo_)");
  // Raw on purpose: every token call runs it; one round trip for the token and its user.
  const [row] = await db.$queryRaw<TokenRow[]>`
    SELECT t."id", t."kind"::text AS "kind", t."scopes", t."teamId", t."expiresAt", t."revokedAt", t."lastUsedAt", t."lastUsedIp",
      u."id" AS "userId", u."email", u."name", u."isPlatformAdmin", u."disabled"
    FROM "ApiToken" t JOIN "User" u ON u."id" = t."userId"
    WHERE t."tokenHash" = ${hashApiToken(token)}`;
  if (!row) throw unauthenticated("This API token is not valid");
  if (row.revokedAt) throw unauthenticated("This token has been revoked");
  if (row.expiresAt.getTime() <= Date.now()) throw unauthenticated("This token has expired");
  if (row.disabled) throw unauthenticated("This token's account is disabled");
  await recordUse(row, ip);
  const scopes = row.scopes.filter((s): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s));
  const grant: TokenGrant = { tokenId: row.id, kind: row.kind, scopes, teamId: row.teamId };
  return {
    user: {
      id: row.userId,
      email: row.email,
      name: row.name,
      isPlatformAdmin: row.isPlatformAdmin && row.kind === "PERSONAL" && scopes.includes("admin") && row.teamId === null,
      grant,
    },
    sessionId: tokenSessionId(row.id),
    expiresAt: Math.floor(row.expiresAt.getTime() / 1000),
  };
}

async function recordUse(row: TokenRow, ip: string): Promise<void> {
  const fresh = row.lastUsedAt && Date.now() - row.lastUsedAt.getTime() < LAST_USED_EVERY_MS && row.lastUsedIp === ip;
  if (fresh) return;
  await db.$executeRaw`UPDATE "ApiToken" SET "lastUsedAt" = now(), "lastUsedIp" = ${ip} WHERE "id" = ${row.id}`.catch((err: Error) =>
    logger.warn({ err: { message: err.message }, tokenId: row.id }, "token last use not recorded"),
  );
}
