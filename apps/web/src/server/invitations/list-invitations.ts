import "server-only";
import { db } from "../db";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";

/** Pending invitations (not used, not revoked, not expired). Tokens are never returned. */
export async function listInvitations(user: SessionUser, teamId: string) {
  const { team } = await teamAccess(user, { id: teamId }, "member.invite");
  return db.invitation.findMany({
    where: { teamId: team.id, acceptedAt: null, revokedAt: null, expiresAt: { gt: new Date() } },
    select: { id: true, email: true, role: true, expiresAt: true, createdAt: true, invitedBy: { select: { name: true } } },
    orderBy: { createdAt: "desc" },
  });
}
