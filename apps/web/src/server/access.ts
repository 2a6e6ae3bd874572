import "server-only";
import { can, grantAllows, scopeFor, type Permission, type Role, type TokenGrant } from "@wyolo/contracts";
import { db } from "./db";
import { forbidden, notFound } from "./errors";
import type { SessionUser } from "./auth/session";

export type TeamAccess = {
  team: { id: string; name: string; slug: string };
  role: Role;
  /** True when the role comes from the platform-admin flag rather than a membership. */
  viaPlatformAdmin: boolean;
  /** The API token's grant when the caller used one; null for a browser session. */
  grant: TokenGrant | null;
};

// A platform admin without a membership manages a team like its ADMIN; deleting it or moving
// its ownership stays with its owners.
const PLATFORM_ADMIN_ROLE: Role = "ADMIN";

/** A token narrowed to (or, as a service token, belonging to) another team does not see this one. */
function outsideGrant(user: SessionUser, teamId: string): boolean {
  return !!user.grant?.teamId && user.grant.teamId !== teamId;
}

/** Both halves of a right: the role's (permission table) and, for an API token, its scope's. */
function checkPermission(role: Role, grant: TokenGrant | null, permission: Permission): void {
  if (!can(role, permission)) throw forbidden();
  if (!grantAllows(grant, permission)) throw forbidden(`This token lacks the "${scopeFor(permission)}" scope`);
}

/**
 * Whether an access already resolved (for a weaker permission) also allows `permission`: use it
 * instead of `can(access.role, …)`, which would ignore a token's scopes.
 */
export function allows(access: Pick<TeamAccess, "role" | "grant">, permission: Permission): boolean {
  return can(access.role, permission) && grantAllows(access.grant, permission);
}

/**
 * Resolves the caller's role in a team and checks a permission. A team the caller cannot see
 * answers 404 (its existence is not revealed); a visible team with too little role answers 403.
 * With an API token, a team outside its grant is not seen and a missing scope is a 403 naming it.
 */
export async function teamAccess(user: SessionUser, where: { id: string } | { slug: string }, permission: Permission): Promise<TeamAccess> {
  const team = await db.team.findUnique({
    where,
    select: { id: true, name: true, slug: true, memberships: { where: { userId: user.id }, select: { role: true } } },
  });
  const membership = team?.memberships[0];
  if (!team || (!membership && !user.isPlatformAdmin) || outsideGrant(user, team.id)) throw notFound("Team not found");
  const role = membership?.role ?? PLATFORM_ADMIN_ROLE;
  const grant = user.grant ?? null;
  checkPermission(role, grant, permission);
  return { team: { id: team.id, name: team.name, slug: team.slug }, role, viaPlatformAdmin: !membership, grant };
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
  if (!row || (!row.role && !user.isPlatformAdmin) || outsideGrant(user, row.teamId)) throw notFound("Project not found");
  const role = row.role ?? PLATFORM_ADMIN_ROLE;
  const grant = user.grant ?? null;
  checkPermission(role, grant, permission);
  const { teamName, teamSlug, role: _role, ...project } = row;
  return { project, team: { id: row.teamId, name: teamName, slug: teamSlug }, role, viaPlatformAdmin: !row.role, grant };
}

/** A token reaches platform-admin rights only as a personal, un-narrowed token with the `admin` scope (auth/bearer.ts). */
export function requirePlatformAdmin(user: SessionUser): void {
  if (!user.isPlatformAdmin) throw forbidden("Only platform admins can do this");
}

/** For actions a token must never do (minting tokens): a browser session only. */
export function requireSession(user: SessionUser): void {
  if (user.grant) throw forbidden("An API token cannot do this: sign in to the dashboard and do it there");
}

/** The teams a caller may list: all of theirs, or the one a token is narrowed to. For `where` clauses on Team. */
export function visibleTeamsWhere(user: SessionUser): { id?: string; memberships?: { some: { userId: string } } } {
  const narrowed = user.grant?.teamId ? { id: user.grant.teamId } : {};
  return user.isPlatformAdmin ? narrowed : { ...narrowed, memberships: { some: { userId: user.id } } };
}
