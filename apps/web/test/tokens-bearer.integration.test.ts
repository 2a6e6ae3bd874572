import { describe, expect, it } from "vitest";
import { db } from "@/server/db";
import * as meRoute from "@/app/api/v1/me/route";
import * as teamsRoute from "@/app/api/v1/teams/route";
import * as projectsRoute from "@/app/api/v1/teams/[teamId]/projects/route";
import * as projectRoute from "@/app/api/v1/projects/[projectId]/route";
import * as adminUsersRoute from "@/app/api/v1/admin/users/route";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as cancelRoute from "@/app/api/v1/jobs/[jobId]/cancel/route";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";
import { createTestToken } from "./tokens-helper";
import { LAST_USED_EVERY_MS } from "@/server/auth/bearer";

const bearer = (authorization: string) => ({ authorization });
/** A script's call: the token, no Origin, no cookie. */
const asToken = (t: { authorization: string }) => ({ origin: null, headers: bearer(t.authorization) });

async function ownerWithTeam() {
  const user = await createUser();
  const team = await createTeamWith([{ userId: user.id, role: "OWNER" }]);
  return { user, team };
}

describe("Bearer tokens on the API", () => {
  it("authenticate as their user, with the grant, and record the last use (at most once a minute)", async () => {
    const { user } = await ownerWithTeam();
    const t = await createTestToken({ userId: user.id, scopes: ["read"] });
    const res = await call(meRoute.GET, { ...asToken(t), ip: "203.0.113.7" });
    expect(res.status).toBe(200);
    expect(res.body.user).toMatchObject({ id: user.id, grant: { tokenId: t.id, kind: "PERSONAL", scopes: ["read"], teamId: null } });
    const used = await db.apiToken.findUniqueOrThrow({ where: { id: t.id }, select: { lastUsedAt: true, lastUsedIp: true } });
    expect(used.lastUsedIp).toBe("203.0.113.7");
    expect(used.lastUsedAt).not.toBeNull();

    await call(meRoute.GET, { ...asToken(t), ip: "203.0.113.7" });
    const again = await db.apiToken.findUniqueOrThrow({ where: { id: t.id }, select: { lastUsedAt: true } });
    expect(again.lastUsedAt).toEqual(used.lastUsedAt);

    // A minute later (or from another address) it is written again.
    await db.apiToken.update({ where: { id: t.id }, data: { lastUsedAt: new Date(Date.now() - LAST_USED_EVERY_MS - 1000) } });
    await call(meRoute.GET, { ...asToken(t), ip: "203.0.113.7" });
    const later = await db.apiToken.findUniqueOrThrow({ where: { id: t.id }, select: { lastUsedAt: true } });
    expect(later.lastUsedAt!.getTime()).toBeGreaterThan(Date.now() - 10_000);
    await call(meRoute.GET, { ...asToken(t), ip: "198.51.100.1" });
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: t.id } })).lastUsedIp).toBe("198.51.100.1");
  });

  it("answers 401 with what is wrong: expired, revoked, unknown, malformed, disabled account", async () => {
    const { user } = await ownerWithTeam();
    const expired = await createTestToken({ userId: user.id, expiresAt: new Date(Date.now() - 1000) });
    const revoked = await createTestToken({ userId: user.id, revokedAt: new Date() });
    const cases: [string, string][] = [
      [expired.authorization, "This token has expired"],
      [revoked.authorization, "This token has been revoked"],
      [`Bearer wyolo_${"A".repeat(43)}`, "This API token is not valid"],
      ["Bearer not-a-token", "That is not a Wyolo API token (they start with wyolo_)"],
      ["Bearer", "The Authorization header has no token: send `Bearer wyolo_…`"],
    ];
    for (const [authorization, message] of cases) {
      const res = await call(meRoute.GET, { origin: null, headers: bearer(authorization) });
      expect(res.status, authorization).toBe(401);
      expect(res.body.error).toMatchObject({ code: "UNAUTHENTICATED", message });
    }
    const disabledUser = await createUser();
    const disabled = await createTestToken({ userId: disabledUser.id });
    await db.user.update({ where: { id: disabledUser.id }, data: { disabled: true } });
    const res = await call(meRoute.GET, { ...asToken(disabled) });
    expect(res.status).toBe(401);
    expect(res.body.error.message).toBe("This token's account is disabled");
    // The expired token's last use is not recorded: it was refused before.
    expect((await db.apiToken.findUniqueOrThrow({ where: { id: expired.id } })).lastUsedAt).toBeNull();
  });

  it("wins over a cookie, and skips the Origin check only then", async () => {
    const { user, team } = await ownerWithTeam();
    const other = await createUser();
    const t = await createTestToken({ userId: user.id });
    const cookie = await sessionCookie(other);
    // The other user's cookie from a foreign origin, plus the token: the token's user acts, no CSRF refusal.
    const made = await call(projectsRoute.POST, {
      params: { teamId: team.id },
      cookie,
      origin: "https://evil.example",
      headers: bearer(t.authorization),
      body: { name: "By token" },
    });
    expect(made.status).toBe(201);
    expect((await db.project.findUniqueOrThrow({ where: { id: made.body.project.id }, select: { createdById: true } })).createdById).toBe(
      user.id,
    );
    // The cookie alone from that origin is still refused.
    const csrf = await call(teamsRoute.POST, { cookie, origin: "https://evil.example", body: { name: "Nope" } });
    expect(csrf.status).toBe(403);
    // A token from a script: no Origin at all.
    const script = await call(teamsRoute.GET, { ...asToken(t) });
    expect(script.status).toBe(200);
  });

  it("a missing scope is a 403 naming the scope; another team is 404; a narrowed token sees only its team", async () => {
    const { user, team } = await ownerWithTeam();
    const second = await createTeamWith([{ userId: user.id, role: "OWNER" }]);
    const stranger = await createTeamWith([{ userId: (await createUser()).id, role: "OWNER" }]);
    const readOnly = await createTestToken({ userId: user.id, scopes: ["read"] });
    const denied = await call(projectsRoute.POST, {
      params: { teamId: team.id },
      origin: null,
      headers: bearer(readOnly.authorization),
      body: { name: "Not allowed" },
    });
    expect(denied.status).toBe(403);
    expect(denied.body.error.message).toBe('This token lacks the "admin" scope');
    expect((await call(projectsRoute.GET, { params: { teamId: stranger.id }, ...asToken(readOnly) })).status).toBe(404);

    const narrowed = await createTestToken({ userId: user.id, teamId: team.id });
    // It lists only its team.
    const listed = await call(teamsRoute.GET, asToken(narrowed));
    expect(listed.body.teams.map((t: { id: string }) => t.id)).toEqual([team.id]);
    expect((await call(teamsRoute.GET, asToken(readOnly))).body.teams).toHaveLength(2);
    expect((await call(projectsRoute.GET, { params: { teamId: team.id }, ...asToken(narrowed) })).status).toBe(200);
    expect((await call(projectsRoute.GET, { params: { teamId: second.id }, ...asToken(narrowed) })).status).toBe(404);
    const project = await db.project.create({ data: { teamId: second.id, name: "P", slug: "p" }, select: { id: true } });
    expect((await call(projectRoute.GET, { params: { projectId: project.id }, ...asToken(narrowed) })).status).toBe(404);
  });

  it("service tokens act as their account in their team only", async () => {
    const { user, team } = await ownerWithTeam();
    const other = await createTeamWith([{ userId: user.id, role: "OWNER" }]);
    const svc = await createTestToken({ kind: "SERVICE", teamId: team.id, role: "VIEWER", userId: user.id, scopes: ["read", "admin"] });
    expect((await call(projectsRoute.GET, { params: { teamId: team.id }, ...asToken(svc) })).status).toBe(200);
    // Scope allows it, the role does not.
    const res = await call(projectsRoute.POST, {
      params: { teamId: team.id },
      origin: null,
      headers: bearer(svc.authorization),
      body: { name: "Not allowed" },
    });
    expect(res.status).toBe(403);
    expect(res.body.error.message).toBe("Your role does not allow this");
    expect((await call(projectsRoute.GET, { params: { teamId: other.id }, ...asToken(svc) })).status).toBe(404);
  });

  it("platform-admin rights come only through an un-narrowed personal token with the admin scope", async () => {
    const admin = await createUser({ isPlatformAdmin: true });
    const team = await createTeamWith([{ userId: admin.id, role: "OWNER" }]);
    const full = await createTestToken({ userId: admin.id, scopes: ["read", "admin"] });
    const noAdmin = await createTestToken({ userId: admin.id, scopes: ["read", "jobs:write"] });
    const narrowed = await createTestToken({ userId: admin.id, teamId: team.id, scopes: ["read", "admin"] });
    expect((await call(adminUsersRoute.GET, { ...asToken(full) })).status).toBe(200);
    expect((await call(adminUsersRoute.GET, { ...asToken(noAdmin) })).status).toBe(403);
    expect((await call(adminUsersRoute.GET, { ...asToken(narrowed) })).status).toBe(403);
  });

  it("audit entries of a token call name the token", async () => {
    const { user, team } = await ownerWithTeam();
    const t = await createTestToken({ userId: user.id });
    const res = await call(projectsRoute.POST, {
      params: { teamId: team.id },
      origin: null,
      headers: bearer(t.authorization),
      body: { name: "Audited" },
    });
    expect(res.status).toBe(201);
    const entry = await db.auditLog.findFirstOrThrow({
      where: { action: "project.create", teamId: team.id },
      select: { metadata: true, actorId: true },
    });
    expect(entry.actorId).toBe(user.id);
    expect(entry.metadata).toMatchObject({ tokenId: t.id });
    // A session call's entries carry no token.
    await call(projectsRoute.POST, { params: { teamId: team.id }, cookie: await sessionCookie(user), body: { name: "By session" } });
    const entries = await db.auditLog.findMany({ where: { action: "project.create", teamId: team.id }, select: { metadata: true } });
    expect(entries.filter((e) => (e.metadata as { tokenId?: string } | null)?.tokenId === t.id)).toHaveLength(1);
  });

  it("job submit and cancel by a token (raw insert, shared lifecycle) name the token too", async () => {
    const { user, team } = await ownerWithTeam();
    const project = await db.project.create({ data: { teamId: team.id, name: "Audit", slug: "audit" } });
    const t = await createTestToken({ userId: user.id, scopes: ["read", "jobs:write"] });
    const made = await call(jobsRoute.POST, {
      params: { projectId: project.id },
      ...asToken(t),
      body: { config: { model: "yolo11n.yaml", train: { data: "shapes/data.yaml", epochs: 1 } } },
    });
    expect(made.status).toBe(201);
    const jobId = made.body.job.id as string;
    // 200 when it left the queue at once, 202 when a worker already held it: audited either way.
    expect([200, 202]).toContain((await call(cancelRoute.POST, { params: { jobId }, ...asToken(t) })).status);
    const entries = await db.auditLog.findMany({
      where: { targetId: jobId },
      select: { action: true, metadata: true },
      orderBy: { createdAt: "asc" },
    });
    expect(entries).toEqual([
      { action: "job.create", metadata: { tokenId: t.id } },
      { action: "job.cancel", metadata: { tokenId: t.id } },
    ]);
  });
});
