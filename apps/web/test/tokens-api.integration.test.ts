import { describe, expect, it } from "vitest";
import { db } from "@/server/db";
import * as accountTokens from "@/app/api/v1/account/tokens/route";
import * as accountToken from "@/app/api/v1/account/tokens/[tokenId]/route";
import * as teamTokens from "@/app/api/v1/teams/[teamId]/tokens/route";
import * as teamToken from "@/app/api/v1/teams/[teamId]/tokens/[tokenId]/route";
import * as membersRoute from "@/app/api/v1/teams/[teamId]/members/route";
import * as memberRoute from "@/app/api/v1/teams/[teamId]/members/[userId]/route";
import * as meRoute from "@/app/api/v1/me/route";
import * as projectsRoute from "@/app/api/v1/teams/[teamId]/projects/route";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";
import { createTestToken } from "./tokens-helper";

const TOKEN_SHAPE = /^wyolo_[A-Za-z0-9_-]{43}$/;
const asToken = (token: string) => ({ origin: null, headers: { authorization: `Bearer ${token}` } });

async function signedIn(role: "OWNER" | "ADMIN" | "MEMBER" = "OWNER") {
  const user = await createUser();
  const team = await createTeamWith([{ userId: user.id, role }]);
  return { user, team, cookie: await sessionCookie(user) };
}

/** Every text of every row of every table, as a dump would hold it. */
async function databaseText(): Promise<string> {
  const tables = await db.$queryRaw<{ name: string }[]>`SELECT tablename::text AS name FROM pg_tables WHERE schemaname = 'public'`;
  const parts: string[] = [];
  for (const { name } of tables) {
    const rows = await db.$queryRawUnsafe<{ row: string }[]>(`SELECT row_to_json(t)::text AS row FROM "${name}" t`);
    parts.push(...rows.map((r) => r.row));
  }
  return parts.join("\n");
}

describe("personal tokens", () => {
  it("cannot make their owner leave a team, whatever their scopes (leaving needs no right of the team's)", async () => {
    const { user, team } = await signedIn("MEMBER");
    const t = await createTestToken({ userId: user.id, scopes: ["read"] });
    const left = await call(memberRoute.DELETE, { ...asToken(t.token), params: { teamId: team.id, userId: user.id } });
    expect(left.status).toBe(403);
    expect(await db.membership.count({ where: { teamId: team.id, userId: user.id } })).toBe(1);
  });

  it("bring read with any write scope, so a jobs:write token can follow the job it submits", async () => {
    const { cookie } = await signedIn();
    const made = await call(accountTokens.POST, { cookie, body: { name: "Writer", scopes: ["jobs:write"] } });
    expect(made.status).toBe(201);
    expect(made.body.summary.scopes).toEqual(["read", "jobs:write"]);
  });

  it("are shown once, stored only as a hash, listed by prefix, audited, and work until revoked", async () => {
    const { user, cookie } = await signedIn();
    const made = await call(accountTokens.POST, { cookie, body: { name: "CI", scopes: ["read", "jobs:write"], expiresInDays: 30 } });
    expect(made.status).toBe(201);
    const { token, summary } = made.body;
    expect(token).toMatch(TOKEN_SHAPE);
    expect(summary).toMatchObject({
      kind: "PERSONAL",
      name: "CI",
      prefix: token.slice(0, 14),
      scopes: ["read", "jobs:write"],
      team: null,
      revokedAt: null,
    });
    expect(Math.abs(new Date(summary.expiresAt).getTime() - (Date.now() + 30 * 86_400_000))).toBeLessThan(60_000);

    // Hashes only: the token's text is nowhere in the database, nor in the list.
    expect(await databaseText()).not.toContain(token);
    expect(await databaseText()).not.toContain(token.slice(14));
    const list = await call(accountTokens.GET, { cookie });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toContain(token.slice(14));
    expect(list.body.tokens.map((t: { id: string }) => t.id)).toEqual([summary.id]);

    expect((await call(meRoute.GET, asToken(token))).status).toBe(200);
    const listed = await call(accountTokens.GET, { cookie });
    expect(listed.body.tokens[0].lastUsedAt).not.toBeNull();

    const revoked = await call(accountToken.DELETE, { cookie, params: { tokenId: summary.id } });
    expect(revoked.status).toBe(200);
    expect(revoked.body.token.revokedAt).not.toBeNull();
    const refused = await call(meRoute.GET, asToken(token));
    expect(refused.status).toBe(401);
    expect(refused.body.error.message).toBe("This token has been revoked");
    // A second revoke changes nothing.
    expect((await call(accountToken.DELETE, { cookie, params: { tokenId: summary.id } })).status).toBe(200);

    const entries = await db.auditLog.findMany({
      where: { targetId: summary.id },
      select: { action: true, actorId: true, metadata: true },
      orderBy: { createdAt: "asc" },
    });
    expect(entries.map((e) => e.action)).toEqual(["token.create", "token.revoke"]);
    expect(entries.every((e) => e.actorId === user.id)).toBe(true);
    expect(JSON.stringify(entries)).not.toContain(token.slice(14));
  });

  it("narrow to a team of the caller's, by slug; refuse teams they are not in and bad input with field messages", async () => {
    const { team, cookie } = await signedIn("MEMBER");
    const stranger = await createTeamWith([{ userId: (await createUser()).id, role: "OWNER" }]);
    const made = await call(accountTokens.POST, { cookie, body: { name: "Narrow", scopes: ["read"], team: team.slug } });
    expect(made.status).toBe(201);
    expect(made.body.summary.team).toEqual({ id: team.id, slug: team.slug, name: team.name });

    const cases: [unknown, string][] = [
      [{ name: "X", scopes: ["read"], team: stranger.slug }, "team"],
      [{ name: "X", scopes: ["read"], team: "no-such-team" }, "team"],
      [{ name: "", scopes: ["read"] }, "name"],
      [{ name: "X", scopes: [] }, "scopes"],
      [{ name: "X", scopes: ["root"] }, "scopes.0"],
      [{ name: "X", scopes: ["read"], expiresInDays: 366 }, "expiresInDays"],
      [{ name: "X", scopes: ["read"], expiresAt: "2000-01-01" }, "expiresAt"],
      [{ name: "X", scopes: ["read"], expiresAt: new Date(Date.now() + 400 * 86_400_000).toISOString() }, "expiresAt"],
      [{ name: "X", scopes: ["read"], role: "ADMIN" }, "role"],
    ];
    for (const [body, field] of cases) {
      const res = await call(accountTokens.POST, { cookie, body });
      expect(res.status, JSON.stringify(body)).toBe(422);
      expect(Object.keys(res.body.error.fields), JSON.stringify(body)).toContain(field);
    }
  });

  it("cannot be listed, minted or revoked with a token; another user's token is not found", async () => {
    const { user, cookie } = await signedIn();
    const t = await createTestToken({ userId: user.id });
    for (const [handler, params] of [
      [accountTokens.GET, {}],
      [accountTokens.POST, {}],
      [accountToken.DELETE, { tokenId: t.id }],
    ] as const) {
      const res = await call(handler, {
        ...asToken(t.token),
        params,
        body: handler === accountTokens.POST ? { name: "Minted", scopes: ["read"] } : undefined,
      });
      expect(res.status).toBe(403);
      expect(res.body.error.message).toMatch(/API token cannot do this/);
    }
    const other = await signedIn();
    expect((await call(accountToken.DELETE, { cookie: other.cookie, params: { tokenId: t.id } })).status).toBe(404);
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: t.id } })).revokedAt).toBeNull();
    expect((await call(accountToken.DELETE, { cookie, params: { tokenId: t.id } })).status).toBe(200);
  });
});

describe("team service tokens", () => {
  it("an ADMIN creates one: a service account in the team with the role, hidden from members, gone from the team at revoke", async () => {
    const { user, team, cookie } = await signedIn("ADMIN");
    const made = await call(teamTokens.POST, {
      cookie,
      params: { teamId: team.id },
      body: { name: "Deploy bot", scopes: ["read", "admin"], role: "ADMIN" },
    });
    expect(made.status).toBe(201);
    const { token, summary } = made.body;
    expect(summary).toMatchObject({
      kind: "SERVICE",
      name: "Deploy bot",
      role: "ADMIN",
      team: { id: team.id },
      createdBy: { id: user.id },
    });
    const row = await db.apiToken.findUniqueOrThrow({
      where: { id: summary.id },
      select: { user: { select: { id: true, email: true, serviceAccount: true, passwordHash: true } } },
    });
    expect(row.user).toMatchObject({ email: `svc-${summary.id}@tokens.invalid`, serviceAccount: true, passwordHash: null });
    expect(await databaseText()).not.toContain(token);

    // It acts in the team with its role; the member list does not show it and cannot change it.
    const created = await call(projectsRoute.POST, { ...asToken(token), params: { teamId: team.id }, body: { name: "By the bot" } });
    expect(created.status).toBe(201);
    const members = await call(membersRoute.GET, { cookie, params: { teamId: team.id } });
    expect(members.body.members.map((m: { userId: string }) => m.userId)).toEqual([user.id]);
    expect(
      (await call(memberRoute.PATCH, { cookie, params: { teamId: team.id, userId: row.user.id }, body: { role: "VIEWER" } })).status,
    ).toBe(404);
    // Nor can a token make its account leave the team (leaving needs no right, so tokens may not).
    expect((await call(memberRoute.DELETE, { ...asToken(token), params: { teamId: team.id, userId: row.user.id } })).status).toBe(403);

    const list = await call(teamTokens.GET, { cookie, params: { teamId: team.id } });
    expect(list.body.tokens.map((t: { id: string }) => t.id)).toEqual([summary.id]);

    const revoked = await call(teamToken.DELETE, { cookie, params: { teamId: team.id, tokenId: summary.id } });
    expect(revoked.status).toBe(200);
    expect(revoked.body.token).toMatchObject({ revokedAt: expect.any(String), role: null });
    expect(await db.membership.count({ where: { userId: row.user.id } })).toBe(0);
    expect((await call(meRoute.GET, asToken(token))).status).toBe(401);
    const actions = await db.auditLog.findMany({ where: { targetId: summary.id }, select: { action: true, teamId: true } });
    expect(actions).toEqual(
      expect.arrayContaining([
        { action: "token.create", teamId: team.id },
        { action: "token.revoke", teamId: team.id },
      ]),
    );
  });

  it("needs token.manage (ADMIN); another team's token is not found through this team; no OWNER role", async () => {
    const { team, cookie } = await signedIn("OWNER");
    const member = await createUser();
    await db.membership.create({ data: { teamId: team.id, userId: member.id, role: "MEMBER" } });
    const memberCookie = await sessionCookie(member);
    const denied = await call(teamTokens.POST, {
      cookie: memberCookie,
      params: { teamId: team.id },
      body: { name: "Nope", scopes: ["read"] },
    });
    expect(denied.status).toBe(403);
    expect((await call(teamTokens.GET, { cookie: memberCookie, params: { teamId: team.id } })).status).toBe(403);
    expect(
      (await call(teamTokens.POST, { cookie, params: { teamId: team.id }, body: { name: "Owner?", scopes: ["read"], role: "OWNER" } }))
        .status,
    ).toBe(422);

    const other = await signedIn("OWNER");
    const theirs = await createTestToken({ kind: "SERVICE", teamId: other.team.id, role: "MEMBER" });
    expect((await call(teamToken.DELETE, { cookie, params: { teamId: team.id, tokenId: theirs.id } })).status).toBe(404);
    expect((await call(teamTokens.GET, { cookie, params: { teamId: other.team.id } })).status).toBe(404);
    // A personal token narrowed to the team is not the team's to revoke.
    const personal = await createTestToken({ userId: member.id, teamId: team.id });
    expect((await call(teamToken.DELETE, { cookie, params: { teamId: team.id, tokenId: personal.id } })).status).toBe(404);
    const made = await call(teamTokens.POST, { cookie, params: { teamId: team.id }, body: { name: "Default role", scopes: ["read"] } });
    expect(made.body.summary.role).toBe("MEMBER");
  });
});
