import "server-only";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";

/** OWNER only. Projects, memberships and invitations go with the team (cascade). */
export async function deleteTeam(user: SessionUser, teamId: string, ip: string) {
  const { team } = await teamAccess(user, { id: teamId }, "team.delete");
  await db.$transaction(async (tx) => {
    await tx.team.delete({ where: { id: team.id } });
    await audit(tx, {
      actorId: user.id,
      action: "team.delete",
      targetType: "team",
      targetId: team.id,
      ip,
      metadata: { slug: team.slug, name: team.name },
    });
  });
}
