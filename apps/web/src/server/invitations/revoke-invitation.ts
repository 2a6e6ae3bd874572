import "server-only";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import { notFound } from "../errors";
import type { SessionUser } from "../auth/session";

export async function revokeInvitation(user: SessionUser, teamId: string, invitationId: string, ip: string) {
  const { team } = await teamAccess(user, { id: teamId }, "member.invite");
  await db.$transaction(async (tx) => {
    const { count } = await tx.invitation.updateMany({
      where: { id: invitationId, teamId: team.id, acceptedAt: null, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    if (count === 0) throw notFound("Invitation not found");
    await audit(tx, {
      actorId: user.id,
      action: "invitation.revoke",
      targetType: "invitation",
      targetId: invitationId,
      teamId: team.id,
      ip,
    });
  });
}
