import "server-only";
import type { ApiTokenSummary } from "@wyolo/contracts";
import type { DbTx } from "@wyolo/db";
import { db } from "../db";
import { audit } from "../audit";
import { requireSession, teamAccess } from "../access";
import { notFound } from "../errors";
import type { SessionUser } from "../auth/session";
import { tokenSessionId } from "../auth/bearer";
import { disconnectSessionSockets, disconnectUserSockets } from "../realtime/emitter";
import { tokenSummarySelect, toTokenSummary } from "./token-summary";

type Revocable = { id: string; kind: "PERSONAL" | "SERVICE"; name: string; revokedAt: Date | null; userId: string; teamId: string | null };
const revocableSelect = { id: true, kind: true, name: true, revokedAt: true, userId: true, teamId: true } as const;

/** Revokes one of the caller's personal tokens; its open sockets end as a signed-out session's do. */
export async function revokePersonalToken(user: SessionUser, tokenId: string, ip: string): Promise<ApiTokenSummary> {
  requireSession(user);
  const token = await db.apiToken.findFirst({ where: { id: tokenId, userId: user.id, kind: "PERSONAL" }, select: revocableSelect });
  if (!token) throw notFound("Token not found");
  return revoke(user, token, ip);
}

/** Revokes a team's service token and takes its account out of the team. */
export async function revokeTeamToken(user: SessionUser, teamId: string, tokenId: string, ip: string): Promise<ApiTokenSummary> {
  requireSession(user);
  const { team } = await teamAccess(user, { id: teamId }, "token.manage");
  const token = await db.apiToken.findFirst({ where: { id: tokenId, teamId: team.id, kind: "SERVICE" }, select: revocableSelect });
  if (!token) throw notFound("Token not found");
  return revoke(user, token, ip, (tx) => tx.membership.deleteMany({ where: { teamId: team.id, userId: token.userId } }));
}

/** Revoking twice is a no-op. The token's sockets (and a service account's) are disconnected after the commit. */
async function revoke(user: SessionUser, token: Revocable, ip: string, alsoIn?: (tx: DbTx) => Promise<unknown>): Promise<ApiTokenSummary> {
  const row = await db.$transaction(async (tx) => {
    if (!token.revokedAt) {
      await tx.apiToken.update({ where: { id: token.id }, data: { revokedAt: new Date() } });
      await alsoIn?.(tx);
      await audit(tx, {
        actorId: user.id,
        action: "token.revoke",
        targetType: "token",
        targetId: token.id,
        teamId: token.teamId,
        ip,
        metadata: { kind: token.kind, name: token.name },
      });
    }
    return tx.apiToken.findUniqueOrThrow({ where: { id: token.id }, select: tokenSummarySelect });
  });
  disconnectSessionSockets(tokenSessionId(token.id));
  if (token.kind === "SERVICE") disconnectUserSockets(token.userId);
  return toTokenSummary(row);
}
