import "server-only";
import type { ApiTokenSummary } from "@wyolo/contracts";
import type { Prisma } from "@wyolo/db";
import { db } from "../db";
import { requireSession, teamAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { TOKEN_LIST_LIMIT, tokenSummarySelect, toTokenSummary } from "./token-summary";

async function listTokens(where: Prisma.ApiTokenWhereInput): Promise<ApiTokenSummary[]> {
  const rows = await db.apiToken.findMany({ where, select: tokenSummarySelect, orderBy: { createdAt: "desc" }, take: TOKEN_LIST_LIMIT });
  return rows.map(toTokenSummary);
}

export async function listPersonalTokens(user: SessionUser): Promise<ApiTokenSummary[]> {
  requireSession(user);
  return listTokens({ userId: user.id, kind: "PERSONAL" });
}

export async function listTeamTokens(user: SessionUser, teamId: string): Promise<ApiTokenSummary[]> {
  requireSession(user);
  const { team } = await teamAccess(user, { id: teamId }, "token.manage");
  return listTokens({ teamId: team.id, kind: "SERVICE" });
}
