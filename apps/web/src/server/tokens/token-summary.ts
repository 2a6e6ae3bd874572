import "server-only";
import { TOKEN_SCOPES, type ApiTokenSummary, type TokenScope } from "@wyolo/contracts";
import type { Prisma } from "@wyolo/db";

export const tokenSummarySelect = {
  id: true,
  kind: true,
  name: true,
  prefix: true,
  scopes: true,
  teamId: true,
  expiresAt: true,
  lastUsedAt: true,
  lastUsedIp: true,
  revokedAt: true,
  createdAt: true,
  team: { select: { id: true, slug: true, name: true } },
  createdBy: { select: { id: true, name: true } },
  // A service token's role is its account's membership (gone once revoked).
  user: { select: { serviceAccount: true, memberships: { select: { teamId: true, role: true } } } },
} satisfies Prisma.ApiTokenSelect;

type Row = Prisma.ApiTokenGetPayload<{ select: typeof tokenSummarySelect }>;

export function toTokenSummary(row: Row): ApiTokenSummary {
  const membership = row.kind === "SERVICE" ? row.user.memberships.find((m) => m.teamId === row.teamId) : undefined;
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    prefix: row.prefix,
    scopes: row.scopes.filter((s): s is TokenScope => (TOKEN_SCOPES as readonly string[]).includes(s)),
    team: row.team,
    role: membership && membership.role !== "OWNER" ? membership.role : null,
    expiresAt: row.expiresAt.toISOString(),
    lastUsedAt: row.lastUsedAt?.toISOString() ?? null,
    lastUsedIp: row.lastUsedIp,
    revokedAt: row.revokedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    createdBy: row.createdBy,
  };
}

/** Newest first; revoked and expired tokens stay listed (greyed) so their last use can still be read. */
export const TOKEN_LIST_LIMIT = 200;
