import "server-only";
import { can, type Permission, type Role } from "@wyolo/contracts";
import { db } from "./db";
import { forbidden, notFound } from "./errors";
import type { SessionUser } from "./auth/session";

export type TeamAccess = {
  team: { id: string; name: string; slug: string };
  role: Role;
  /** True when the role comes from the platform-admin flag rather than a membership. */
  viaPlatformAdmin: boolean;
};

// A platform admin without a membership manages a team like its ADMIN; deleting it or moving
// its ownership stays with its owners.
const PLATFORM_ADMIN_ROLE: Role = "ADMIN";

/**
 * Resolves the caller's role in a team and checks a permission. A team the caller cannot see
 * answers 404 (its existence is not revealed); a visible team with too little role answers 403.
 */
export async function teamAccess(user: SessionUser, where: { id: string } | { slug: string }, permission: Permission): Promise<TeamAccess> {
  const team = await db.team.findUnique({
    where,
    select: { id: true, name: true, slug: true, memberships: { where: { userId: user.id }, select: { role: true } } },
  });
  const membership = team?.memberships[0];
  if (!team || (!membership && !user.isPlatformAdmin)) throw notFound("Team not found");
  const role = membership?.role ?? PLATFORM_ADMIN_ROLE;
  if (!can(role, permission)) throw forbidden();
  return { team: { id: team.id, name: team.name, slug: team.slug }, role, viaPlatformAdmin: !membership };
}

export type ProjectAccess = TeamAccess & {
  project: { id: string; name: string; slug: string; description: string; teamId: string; createdAt: Date };
};

type ProjectRow = {
  id: string;
  name: string;
  slug: string;
  description: string;
  teamId: string;
  createdAt: Date;
  teamName: string;
  teamSlug: string;
  role: Role | null;
};

/**
 * Like teamAccess, for a project (by id, or by team and project slug). One query on this hot
 * path (every job API call): the project, its team and the caller's membership, joined.
 */
export async function projectAccess(
  user: SessionUser,
  where: { id: string } | { teamSlug: string; projectSlug: string },
  permission: Permission,
): Promise<ProjectAccess> {
  const rows =
    "id" in where
      ? await db.$queryRaw<ProjectRow[]>`
          SELECT p."id", p."name", p."slug", p."description", p."teamId", p."createdAt", t."name" AS "teamName", t."slug" AS "teamSlug", m."role"::text AS "role"
          FROM "Project" p JOIN "Team" t ON t."id" = p."teamId"
          LEFT JOIN "Membership" m ON m."teamId" = t."id" AND m."userId" = ${user.id}
          WHERE p."id" = ${where.id}`
      : await db.$queryRaw<ProjectRow[]>`
          SELECT p."id", p."name", p."slug", p."description", p."teamId", p."createdAt", t."name" AS "teamName", t."slug" AS "teamSlug", m."role"::text AS "role"
          FROM "Project" p JOIN "Team" t ON t."id" = p."teamId"
          LEFT JOIN "Membership" m ON m."teamId" = t."id" AND m."userId" = ${user.id}
          WHERE t."slug" = ${where.teamSlug} AND p."slug" = ${where.projectSlug}`;
  const row = rows[0];
  if (!row || (!row.role && !user.isPlatformAdmin)) throw notFound("Project not found");
  const role = row.role ?? PLATFORM_ADMIN_ROLE;
  if (!can(role, permission)) throw forbidden();
  const { teamName, teamSlug, role: _role, ...project } = row;
  return { project, team: { id: row.teamId, name: teamName, slug: teamSlug }, role, viaPlatformAdmin: !row.role };
}

export function requirePlatformAdmin(user: SessionUser): void {
  if (!user.isPlatformAdmin) throw forbidden("Only platform admins can do this");
}
