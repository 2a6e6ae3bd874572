import "server-only";
import { ROLE_RANK } from "@wyolo/contracts";
import { db } from "../db";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";

export async function listMembers(user: SessionUser, teamId: string) {
  const { team } = await teamAccess(user, { id: teamId }, "member.read");
  const rows = await db.membership.findMany({
    // Service accounts are listed with their tokens (team Tokens page), not as members.
    where: { teamId: team.id, user: { serviceAccount: false } },
    select: { role: true, createdAt: true, user: { select: { id: true, email: true, name: true, disabled: true } } },
  });
  return rows
    .map((m) => ({
      userId: m.user.id,
      email: m.user.email,
      name: m.user.name,
      disabled: m.user.disabled,
      role: m.role,
      joinedAt: m.createdAt,
    }))
    .sort((a, b) => ROLE_RANK[b.role] - ROLE_RANK[a.role] || a.name.localeCompare(b.name));
}
