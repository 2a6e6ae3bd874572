import "server-only";
import { db } from "../db";
import { audit } from "../audit";
import { requireSession, teamAccess } from "../access";
import { AppError, forbidden } from "../errors";
import type { SessionUser } from "../auth/session";
import { disconnectUserSockets } from "../realtime/emitter";
import { findMember, lockTeam, ownerCount } from "./lock-team";

/**
 * Removes a member, or lets the caller leave (memberId = own id, any role). The last owner stays.
 * Their sockets are disconnected: the rejoins are checked again, so the team's rooms go quiet.
 */
export async function removeMember(user: SessionUser, teamId: string, memberId: string, ip: string) {
  const leaving = memberId === user.id;
  // Leaving needs no right of the team's, so a token (even read-only) must not do it for its owner.
  if (leaving) requireSession(user);
  const access = await teamAccess(user, { id: teamId }, leaving ? "team.read" : "member.remove");
  await db.$transaction(async (tx) => {
    await lockTeam(tx, access.team.id);
    const member = await findMember(tx, access.team.id, memberId);
    if (!member) throw new AppError("NOT_FOUND", "That user is not a member of this team");
    if (!leaving && member.role === "OWNER" && access.role !== "OWNER") throw forbidden("Only an owner can remove an owner");
    if (member.role === "OWNER" && (await ownerCount(tx, access.team.id)) <= 1) {
      throw new AppError(
        "CONFLICT",
        leaving ? "You are the last owner: transfer ownership or delete the team instead" : "The last owner cannot be removed",
      );
    }
    await tx.membership.delete({ where: { id: member.id } });
    await audit(tx, {
      actorId: user.id,
      action: leaving ? "member.leave" : "member.remove",
      targetType: "user",
      targetId: memberId,
      teamId: access.team.id,
      ip,
      metadata: { role: member.role },
    });
  });
  disconnectUserSockets(memberId);
}
