import { z } from "zod";
import type { Permission } from "./roles.ts";

/** Every API token starts with this, so secret scanners and people recognise one. */
export const TOKEN_PREFIX = "wyolo_";
/** `wyolo_` + this many characters are stored and shown to recognise a token. */
export const TOKEN_DISPLAY_CHARS = 8;

export const TOKEN_SCOPES = ["read", "jobs:write", "sweeps:write", "models:write", "datasets:write", "admin"] as const;
export const tokenScopeSchema = z.enum(TOKEN_SCOPES);
export type TokenScope = z.infer<typeof tokenScopeSchema>;

export const TOKEN_DEFAULT_DAYS = 90;
export const TOKEN_MAX_DAYS = 365;

/**
 * The scope a token needs for each permission: a token can do what its user's (or service
 * account's) role allows AND its scopes allow. Written once; the role matrix test generates the
 * scope × route matrix from it.
 */
export const PERMISSION_SCOPE = {
  "team.read": "read",
  "team.update": "admin",
  "team.delete": "admin",
  "team.transfer": "admin",
  "member.read": "read",
  "member.invite": "admin",
  "member.update": "admin",
  "member.remove": "admin",
  "audit.read": "admin",
  "project.read": "read",
  "project.create": "admin",
  "project.update": "admin",
  "project.delete": "admin",
  "job.read": "read",
  "job.create": "jobs:write",
  "job.cancel.own": "jobs:write",
  "job.cancel.any": "jobs:write",
  "export.create": "jobs:write",
  "sweep.create": "sweeps:write",
  "sweep.update.own": "sweeps:write",
  "sweep.update.any": "sweeps:write",
  "token.manage": "admin",
  "model.alias": "models:write",
  "dataset.read": "read",
  "dataset.upload": "datasets:write",
  "dataset.delete": "datasets:write",
} as const satisfies Record<Permission, TokenScope>;

export function scopeFor(permission: Permission): TokenScope {
  return PERMISSION_SCOPE[permission];
}

/** The restrictions a request made with an API token carries (absent for a browser session). */
export type TokenGrant = {
  tokenId: string;
  kind: "PERSONAL" | "SERVICE";
  scopes: readonly TokenScope[];
  /** Narrowed to (or, for a service token, belonging to) this team; null = all the user's teams. */
  teamId: string | null;
};

export function grantAllows(grant: TokenGrant | null | undefined, permission: Permission): boolean {
  return !grant || grant.scopes.includes(scopeFor(permission));
}

const expiresAt = z.coerce
  .date()
  .refine((d) => d.getTime() > Date.now(), "Must be in the future")
  .refine((d) => d.getTime() <= Date.now() + TOKEN_MAX_DAYS * 86_400_000, `At most ${TOKEN_MAX_DAYS} days from now`);

/** Body of POST /api/v1/account/tokens (personal) and /api/v1/teams/{slug}/tokens (service). */
export const createTokenSchema = z.object({
  name: z.string().trim().min(1, "Name the token").max(80),
  scopes: z.array(tokenScopeSchema).min(1, "Choose at least one scope").max(TOKEN_SCOPES.length),
  /** Days from now (default 90) or an exact date; never more than a year. */
  expiresInDays: z.number().int().min(1).max(TOKEN_MAX_DAYS).optional(),
  expiresAt: expiresAt.optional(),
  /** Personal tokens: narrow to one team (its slug). */
  team: z.string().trim().min(1).max(64).optional(),
  /** Service tokens: the role of the service account in the team (never OWNER). */
  role: z.enum(["ADMIN", "MEMBER", "VIEWER"]).optional(),
});
export type CreateTokenInput = z.infer<typeof createTokenSchema>;

export type ApiTokenSummary = {
  id: string;
  kind: "PERSONAL" | "SERVICE";
  name: string;
  prefix: string;
  scopes: TokenScope[];
  team: { id: string; slug: string; name: string } | null;
  role: "ADMIN" | "MEMBER" | "VIEWER" | null;
  expiresAt: string;
  lastUsedAt: string | null;
  lastUsedIp: string | null;
  revokedAt: string | null;
  createdAt: string;
  createdBy: { id: string; name: string } | null;
};
