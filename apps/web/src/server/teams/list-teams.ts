import "server-only";
import type { Role } from "@wyolo/contracts";
import { db } from "../db";
import { visibleTeamsWhere } from "../access";
import type { SessionUser } from "../auth/session";

export type TeamSummary = { id: string; name: string; slug: string; role: Role; viaPlatformAdmin: boolean };

/** The caller's teams; a platform admin also sees every other team. */
export async function listTeams(user: SessionUser): Promise<TeamSummary[]> {
  const teams = await db.team.findMany({
    where: visibleTeamsWhere(user),
    select: { id: true, name: true, slug: true, memberships: { where: { userId: user.id }, select: { role: true } } },
    orderBy: { name: "asc" },
  });
  return teams.map((t) => ({
    id: t.id,
    name: t.name,
    slug: t.slug,
    role: t.memberships[0]?.role ?? "ADMIN",
    viaPlatformAdmin: !t.memberships[0],
  }));
}
