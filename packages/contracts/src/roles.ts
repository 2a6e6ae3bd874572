import { z } from "zod";

export const ROLES = ["OWNER", "ADMIN", "MEMBER", "VIEWER"] as const;
export const roleSchema = z.enum(ROLES);
export type Role = z.infer<typeof roleSchema>;

/** Higher rank = more rights; used to order member lists and compare roles. */
export const ROLE_RANK: Record<Role, number> = { OWNER: 4, ADMIN: 3, MEMBER: 2, VIEWER: 1 };

const ALL: readonly Role[] = ROLES;
const WRITERS: readonly Role[] = ["OWNER", "ADMIN", "MEMBER"];
const MANAGERS: readonly Role[] = ["OWNER", "ADMIN"];
const OWNERS: readonly Role[] = ["OWNER"];

/**
 * The one permission table: action → roles allowed. Every route handler, server action and
 * socket room checks it on the server; the UI uses it only to hide what a role cannot do.
 */
export const PERMISSIONS = {
  "team.read": ALL,
  "team.update": MANAGERS,
  "team.delete": OWNERS,
  "team.transfer": OWNERS,
  "member.read": ALL,
  "member.invite": MANAGERS,
  "member.update": MANAGERS,
  "member.remove": MANAGERS,
  "audit.read": MANAGERS,
  "project.read": ALL,
  "project.create": MANAGERS,
  "project.update": MANAGERS,
  "project.delete": MANAGERS,
  "job.read": ALL,
  "job.create": WRITERS,
  "job.cancel.own": WRITERS,
  "job.cancel.any": MANAGERS,
  "export.create": WRITERS,
  "sweep.create": WRITERS,
  /** Cancel a sweep or add trials to it: your own as a writer, any as a manager. */
  "sweep.update.own": WRITERS,
  "sweep.update.any": MANAGERS,
  /** Create and revoke the team's service tokens (from a browser session only: a token never mints tokens). */
  "token.manage": MANAGERS,
  /** Set or remove a registered model's aliases (champion, staging…). */
  "model.alias": MANAGERS,
  "dataset.read": ALL,
  /** Create a dataset, upload a version, make a version from another. */
  "dataset.upload": WRITERS,
  /** Archive a version; delete a version no job references, or a dataset with none. */
  "dataset.delete": MANAGERS,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role | null | undefined, permission: Permission): boolean {
  return role != null && (PERMISSIONS[permission] as readonly Role[]).includes(role);
}

/** Only an OWNER may grant or take away the OWNER role. */
export function canAssignRole(actor: Role, from: Role | null, to: Role): boolean {
  if (!can(actor, "member.update")) return false;
  if (actor === "OWNER") return true;
  return from !== "OWNER" && to !== "OWNER";
}
