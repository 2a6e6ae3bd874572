import "server-only";
import { canAssignRole, type Role } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import { AppError, forbidden } from "../errors";
import type { SessionUser } from "../auth/session";
import { disconnectUserSockets } from "../realtime/emitter";
import { findMember, lockTeam, ownerCount } from "./lock-team";

/** The member's sockets reconnect afterwards, so each room they keep is checked against the new role. */
export async function changeRole(user: SessionUser, teamId: string, memberId: string, role: Role, ip: string) {
  const access = await teamAccess(user, { id: teamId }, "member.update");
  const updated = await db.$transaction(async (tx) => {
    await lockTeam(tx, access.team.id);
    const member = await findMember(tx, access.team.id, memberId);
    if (!member) throw new AppError("NOT_FOUND", "That user is not a member of this team");
    if (!canAssignRole(access.role, member.role, role)) throw forbidden("Only an owner can grant or remove the OWNER role");
    if (member.role === "OWNER" && role !== "OWNER" && (await ownerCount(tx, access.team.id)) <= 1) {
      throw new AppError("CONFLICT", "The last owner cannot be demoted; make someone else owner first");
    }
    const updated = await tx.membership.update({ where: { id: member.id }, data: { role }, select: { role: true, userId: true } });
    await audit(tx, {
      actorId: user.id,
      action: "member.role_change",
      targetType: "user",
      targetId: memberId,
      teamId: access.team.id,
      ip,
      metadata: { from: member.role, to: role },
    });
    return updated;
  });
  disconnectUserSockets(memberId);
  return updated;
}
