import "server-only";
import { env } from "@/env";
import { db } from "../db";
import { audit } from "../audit";
import { logger } from "../logger";
import { disconnectSessionSockets } from "../realtime/emitter";
import { sessionIdOf, type SessionClaims } from "./session";

/**
 * Ends a session for good (next-auth's signOut event): its token, and every re-encoded copy of
 * it, stops working on the API and on sockets. The row outlives any token carrying the id:
 * a revoked token can no longer be refreshed, so none expires later than now + max age.
 */
export async function signOutSession(claims: SessionClaims | null) {
  const sessionId = claims ? sessionIdOf(claims) : null;
  if (!claims?.sub || !sessionId) return;
  const keepUntil = new Date(Date.now() + (env.SESSION_MAX_AGE_HOURS * 3600 + 60) * 1000);
  await db.$transaction([
    // Pruned here: sign-outs are the only writers, so the table stays as small as the live revocations.
    db.$executeRaw`DELETE FROM "RevokedSession" WHERE "expiresAt" < now()`,
    db.$executeRaw`INSERT INTO "RevokedSession" ("id", "expiresAt") VALUES (${sessionId}, ${keepUntil}) ON CONFLICT ("id") DO UPDATE SET "expiresAt" = EXCLUDED."expiresAt"`,
    audit(db, { actorId: claims.sub, action: "auth.sign_out", targetType: "user", targetId: claims.sub }),
  ]);
  disconnectSessionSockets(sessionId);
  logger.info({ userId: claims.sub }, "signed out");
}
