import "server-only";
import { canAssignRole, type ApiTokenSummary, type CreateTokenInput, type TokenScope } from "@wyolo/contracts";
import { newId, type DbTx } from "@wyolo/db";
import { db } from "../db";
import { audit } from "../audit";
import { requireSession, teamAccess } from "../access";
import { AppError, forbidden } from "../errors";
import type { SessionUser } from "../auth/session";
import { newApiToken } from "./token-secret";
import { tokenExpiry } from "./token-expiry";
import { tokenSummarySelect, toTokenSummary } from "./token-summary";

export type CreatedToken = { token: string; summary: ApiTokenSummary };

/**
 * A write scope acts on what the token can see (cancelling a job looks it up first), so any
 * scope brings `read` with it: a `jobs:write` token can follow the job it submitted.
 */
export const withRead = (scopes: readonly TokenScope[]): TokenScope[] => [...new Set<TokenScope>(["read", ...scopes])];

const serviceAccountEmail = (tokenId: string) => `svc-${tokenId}@tokens.invalid`;

/**
 * A personal token: the caller's own rights, narrowed by its scopes and, optionally, to one of
 * their teams (by slug). The token is in this answer only; the database keeps its SHA-256.
 */
export async function createPersonalToken(user: SessionUser, input: CreateTokenInput, ip: string): Promise<CreatedToken> {
  requireSession(user);
  if (input.role) throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { role: ["A personal token has your own role"] });
  const team = input.team ? await narrowTo(user, input.team) : null;
  return insertToken(user, input, ip, { kind: "PERSONAL", teamId: team?.id ?? null });
}

async function narrowTo(user: SessionUser, slug: string) {
  try {
    return (await teamAccess(user, { slug }, "team.read")).team;
  } catch (err) {
    if (err instanceof AppError && err.code === "NOT_FOUND")
      throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { team: ["You are not a member of that team"] });
    throw err;
  }
}

/**
 * A team's service token (ADMIN): a service account of its own (no password, never signs in)
 * that is a member of the team with the chosen role, so it keeps working when its creator leaves.
 */
export async function createServiceToken(user: SessionUser, teamId: string, input: CreateTokenInput, ip: string): Promise<CreatedToken> {
  requireSession(user);
  const access = await teamAccess(user, { id: teamId }, "token.manage");
  if (input.team) throw new AppError("VALIDATION_FAILED", "Some fields are invalid", { team: ["A service token belongs to this team"] });
  const role = input.role ?? "MEMBER";
  if (!canAssignRole(access.role, null, role)) throw forbidden("Your role cannot give a token that role");
  const id = newId();
  return insertToken(user, input, ip, { id, kind: "SERVICE", teamId: access.team.id, role }, async (tx) => {
    const account = await tx.user.create({
      data: { email: serviceAccountEmail(id), name: input.name, serviceAccount: true },
      select: { id: true },
    });
    await tx.membership.create({ data: { teamId: access.team.id, userId: account.id, role } });
    return account.id;
  });
}

type TokenOwner =
  | { kind: "PERSONAL"; teamId: string | null }
  | { kind: "SERVICE"; id: string; teamId: string; role: "ADMIN" | "MEMBER" | "VIEWER" };

/** The token row, its account first for a service token, and the audit entry, in one transaction. */
async function insertToken(
  user: SessionUser,
  input: CreateTokenInput,
  ip: string,
  owner: TokenOwner,
  createAccount?: (tx: DbTx) => Promise<string>,
): Promise<CreatedToken> {
  const { token, prefix, tokenHash } = newApiToken();
  const expiresAt = tokenExpiry(input);
  const row = await db.$transaction(async (tx) => {
    const userId = createAccount ? await createAccount(tx) : user.id;
    const created = await tx.apiToken.create({
      data: {
        ...(owner.kind === "SERVICE" ? { id: owner.id } : {}),
        kind: owner.kind,
        name: input.name,
        prefix,
        tokenHash,
        scopes: withRead(input.scopes),
        userId,
        teamId: owner.teamId,
        createdById: user.id,
        expiresAt,
      },
      select: tokenSummarySelect,
    });
    await audit(tx, {
      actorId: user.id,
      action: "token.create",
      targetType: "token",
      targetId: created.id,
      teamId: owner.teamId,
      ip,
      metadata: {
        kind: owner.kind,
        name: input.name,
        prefix,
        scopes: withRead(input.scopes),
        ...(owner.kind === "SERVICE" ? { role: owner.role } : {}),
        expiresAt: expiresAt.toISOString(),
      },
    });
    return created;
  });
  return { token, summary: toTokenSummary(row) };
}
