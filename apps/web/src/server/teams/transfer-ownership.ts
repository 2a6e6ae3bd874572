import "server-only";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import { AppError } from "../errors";
import type { SessionUser } from "../auth/session";

/** The caller (an OWNER) makes another member OWNER and steps down to ADMIN. */
export async function transferOwnership(user: SessionUser, teamId: string, toUserId: string, ip: string) {
  const { team, viaPlatformAdmin } = await teamAccess(user, { id: teamId }, "team.transfer");
  if (viaPlatformAdmin) throw new AppError("FORBIDDEN", "Only an owner of the team can transfer it");
  if (toUserId === user.id) throw new AppError("VALIDATION_FAILED", "Choose another member", { userId: ["You already own this team"] });
  await db.$transaction(async (tx) => {
    const target = await tx.membership.findUnique({
      where: { teamId_userId: { teamId: team.id, userId: toUserId } },
      select: { id: true, user: { select: { serviceAccount: true } } },
    });
    // A service token's account never owns a team.
    if (!target || target.user.serviceAccount) throw new AppError("NOT_FOUND", "That user is not a member of this team");
    await tx.membership.update({ where: { id: target.id }, data: { role: "OWNER" } });
    await tx.membership.update({ where: { teamId_userId: { teamId: team.id, userId: user.id } }, data: { role: "ADMIN" } });
    await audit(tx, { actorId: user.id, action: "team.transfer", targetType: "user", targetId: toUserId, teamId: team.id, ip });
  });
}
