import "server-only";
import { can, type Permission, type Role } from "@wyolo/contracts";
import { db } from "./db";
import { AppError, forbidden, notFound } from "./errors";
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
export async function teamAccess(
  user: SessionUser,
  where: { id: string } | { slug: string },
  permission: Permission,
): Promise<TeamAccess> {
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

const projectSelect = { id: true, name: true, slug: true, description: true, teamId: true, createdAt: true } as const;

export async function projectAccess(
  user: SessionUser,
  where: { id: string } | { teamSlug: string; projectSlug: string },
  permission: Permission,
): Promise<ProjectAccess> {
  const project =
    "id" in where
      ? await db.project.findUnique({ where: { id: where.id }, select: projectSelect })
      : await db.project.findFirst({ where: { slug: where.projectSlug, team: { slug: where.teamSlug } }, select: projectSelect });
  if (!project) throw notFound("Project not found");
  try {
    return { ...(await teamAccess(user, { id: project.teamId }, permission)), project };
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND") throw notFound("Project not found");
    throw err;
  }
}

export function requirePlatformAdmin(user: SessionUser): void {
  if (!user.isPlatformAdmin) throw forbidden("Only platform admins can do this");
}
