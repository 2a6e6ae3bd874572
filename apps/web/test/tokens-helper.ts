import { randomBytes } from "node:crypto";
import type { Role, TokenScope } from "@wyolo/contracts";
import { TOKEN_SCOPES } from "@wyolo/contracts";
import { db } from "@/server/db";
import { newApiToken } from "@/server/tokens/token-secret";

export type TestTokenOptions = {
  /** PERSONAL (default): the token of `userId`. SERVICE: a new service account in `teamId` with `role`, made by `userId` if given. */
  kind?: "PERSONAL" | "SERVICE";
  userId?: string;
  /** PERSONAL: narrow to this team; SERVICE: its team (required). */
  teamId?: string | null;
  /** SERVICE only; default MEMBER. */
  role?: Exclude<Role, "OWNER">;
  /** Default: every scope. */
  scopes?: readonly TokenScope[];
  /** Default: 90 days from now. */
  expiresAt?: Date;
  revokedAt?: Date | null;
  name?: string;
};

export type TestToken = { id: string; token: string; userId: string; authorization: string };

/**
 * An API token written straight to the database, as POST /api/v1/account/tokens (or the team's
 * tokens route) would store it: only its SHA-256. Use `authorization` as the Authorization header.
 */
export async function createTestToken(opts: TestTokenOptions = {}): Promise<TestToken> {
  const kind = opts.kind ?? "PERSONAL";
  const { token, prefix, tokenHash } = newApiToken();
  const name = opts.name ?? `test token ${randomBytes(3).toString("hex")}`;
  let userId = opts.userId;
  if (kind === "SERVICE") {
    if (!opts.teamId) throw new Error("createTestToken: a SERVICE token needs teamId");
    const account = await db.user.create({
      data: { email: `svc-${randomBytes(8).toString("hex")}@tokens.invalid`, name, serviceAccount: true },
      select: { id: true },
    });
    await db.membership.create({ data: { teamId: opts.teamId, userId: account.id, role: opts.role ?? "MEMBER" } });
    userId = account.id;
  }
  if (!userId) throw new Error("createTestToken: a PERSONAL token needs userId");
  const row = await db.apiToken.create({
    data: {
      kind,
      name,
      prefix,
      tokenHash,
      scopes: [...(opts.scopes ?? TOKEN_SCOPES)],
      userId,
      teamId: opts.teamId ?? null,
      createdById: kind === "PERSONAL" ? userId : (opts.userId ?? null),
      expiresAt: opts.expiresAt ?? new Date(Date.now() + 90 * 86_400_000),
      revokedAt: opts.revokedAt ?? null,
    },
    select: { id: true },
  });
  return { id: row.id, token, userId, authorization: `Bearer ${token}` };
}
