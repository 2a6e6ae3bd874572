import { describe, expect, it } from "vitest";
import { db } from "@/server/db";
import * as teamsRoute from "@/app/api/v1/teams/route";
import * as teamRoute from "@/app/api/v1/teams/[teamId]/route";
import * as projectsRoute from "@/app/api/v1/teams/[teamId]/projects/route";
import * as projectRoute from "@/app/api/v1/projects/[projectId]/route";
import * as meRoute from "@/app/api/v1/me/route";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";

describe("teams and projects API", () => {
  it("refuses anonymous callers with 401", async () => {
    const res = await call(teamsRoute.GET);
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHENTICATED");
  });

  it("creates a team whose creator is OWNER, with a derived, de-duplicated slug and an audit entry", async () => {
    const user = await createUser();
    const cookie = await sessionCookie(user);
    const first = await call(teamsRoute.POST, { cookie, body: { name: "Dup Name Lab" } });
    const second = await call(teamsRoute.POST, { cookie, body: { name: "Dup Name Lab" } });
    expect(first.status).toBe(201);
    expect(first.body.team).toMatchObject({ slug: "dup-name-lab", role: "OWNER" });
    expect(second.body.team.slug).toBe("dup-name-lab-2");
    const membership = await db.membership.findFirst({ where: { teamId: first.body.team.id, userId: user.id } });
    expect(membership?.role).toBe("OWNER");
    expect(await db.auditLog.count({ where: { action: "team.create", actorId: user.id } })).toBe(2);
  });

  it("answers 409 with a field message when a chosen slug is taken", async () => {
    const user = await createUser();
    const cookie = await sessionCookie(user);
    await call(teamsRoute.POST, { cookie, body: { name: "Taken", slug: "taken-slug" } });
    const res = await call(teamsRoute.POST, { cookie, body: { name: "Other", slug: "taken-slug" } });
    expect(res.status).toBe(409);
    expect(res.body.error.fields.slug).toEqual(["That slug is taken"]);
  });

  it("answers 422 with field messages for bad input and 400 for a body that is not JSON", async () => {
    const cookie = await sessionCookie(await createUser());
    const bad = await call(teamsRoute.POST, { cookie, body: { name: "x", slug: "Bad Slug!" } });
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe("VALIDATION_FAILED");
    expect(Object.keys(bad.body.error.fields).sort()).toEqual(["name", "slug"]);
    const notJson = await call(teamsRoute.POST, { cookie, rawBody: "{oops" });
    expect(notJson.status).toBe(400);
    expect(await db.team.count({ where: { name: "x" } })).toBe(0);
  });

  it("hides other teams' objects behind 404, for the team and its projects", async () => {
    const owner = await createUser();
    const outsider = await createUser();
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "Secret", slug: "secret" } });
    const cookie = await sessionCookie(outsider);
    expect((await call(teamRoute.GET, { cookie, params: { teamId: team.id } })).status).toBe(404);
    expect((await call(projectsRoute.GET, { cookie, params: { teamId: team.id } })).status).toBe(404);
    expect((await call(projectRoute.GET, { cookie, params: { projectId: project.id } })).status).toBe(404);
    const patch = await call(projectRoute.PATCH, {
      cookie,
      method: "PATCH",
      params: { projectId: project.id },
      body: { name: "Mine now" },
    });
    expect(patch.status).toBe(404);
    expect((await db.project.findUnique({ where: { id: project.id } }))?.name).toBe("Secret");
    // Unknown ids look exactly the same as other teams' ids.
    expect((await call(projectRoute.GET, { cookie, params: { projectId: "does-not-exist" } })).status).toBe(404);
  });

  it("lets a VIEWER read projects but refuses creating one with 403 and a JSON code", async () => {
    const owner = await createUser();
    const viewer = await createUser();
    const team = await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: viewer.id, role: "VIEWER" },
    ]);
    const cookie = await sessionCookie(viewer);
    expect((await call(projectsRoute.GET, { cookie, params: { teamId: team.id } })).status).toBe(200);
    const res = await call(projectsRoute.POST, { cookie, params: { teamId: team.id }, body: { name: "Nope" } });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("FORBIDDEN");
    expect(await db.project.count({ where: { teamId: team.id } })).toBe(0);
  });

  it("lets an ADMIN create, rename and delete projects; slugs are unique per team only", async () => {
    const admin = await createUser();
    const teamA = await createTeamWith([{ userId: admin.id, role: "ADMIN" }]);
    const teamB = await createTeamWith([{ userId: admin.id, role: "ADMIN" }]);
    const cookie = await sessionCookie(admin);
    const a = await call(projectsRoute.POST, { cookie, params: { teamId: teamA.id }, body: { name: "Detector", slug: "det" } });
    const b = await call(projectsRoute.POST, { cookie, params: { teamId: teamB.id }, body: { name: "Detector", slug: "det" } });
    expect([a.status, b.status]).toEqual([201, 201]);
    const renamed = await call(projectRoute.PATCH, {
      cookie,
      method: "PATCH",
      params: { projectId: a.body.project.id },
      body: { name: "Detector v2" },
    });
    expect(renamed.body.project.name).toBe("Detector v2");
    const list = await call(projectsRoute.GET, { cookie, params: { teamId: teamA.id } });
    expect(list.body.projects.map((p: { slug: string }) => p.slug)).toEqual(["det"]);
    expect((await call(projectRoute.DELETE, { cookie, method: "DELETE", params: { projectId: a.body.project.id } })).status).toBe(204);
    expect(await db.project.count({ where: { teamId: teamA.id } })).toBe(0);
  });

  it("refuses deleting a project with active jobs", async () => {
    const owner = await createUser();
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const project = await db.project.create({ data: { teamId: team.id, name: "Busy", slug: "busy" } });
    await db.trainingJob.create({ data: { projectId: project.id, createdById: owner.id, name: "run", config: {}, status: "RUNNING" } });
    const res = await call(projectRoute.DELETE, {
      cookie: await sessionCookie(owner),
      method: "DELETE",
      params: { projectId: project.id },
    });
    expect(res.status).toBe(409);
    expect(await db.project.count({ where: { id: project.id } })).toBe(1);
  });

  it("lets a platform admin see every team, as an admin of it", async () => {
    const owner = await createUser();
    const platformAdmin = await createUser({ isPlatformAdmin: true });
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const cookie = await sessionCookie(platformAdmin);
    const me = await call(meRoute.GET, { cookie });
    expect(me.body.teams.find((t: { id: string }) => t.id === team.id)).toMatchObject({ role: "ADMIN", viaPlatformAdmin: true });
    // Deleting the team stays with its owners.
    expect((await call(teamRoute.DELETE, { cookie, method: "DELETE", params: { teamId: team.id } })).status).toBe(403);
  });

  it("only lets the OWNER delete a team", async () => {
    const owner = await createUser();
    const admin = await createUser();
    const team = await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: admin.id, role: "ADMIN" },
    ]);
    expect(
      (await call(teamRoute.DELETE, { cookie: await sessionCookie(admin), method: "DELETE", params: { teamId: team.id } })).status,
    ).toBe(403);
    expect(
      (await call(teamRoute.DELETE, { cookie: await sessionCookie(owner), method: "DELETE", params: { teamId: team.id } })).status,
    ).toBe(204);
    expect(await db.team.count({ where: { id: team.id } })).toBe(0);
  });

  it("answers 404 for params that cannot be ids", async () => {
    const cookie = await sessionCookie(await createUser());
    expect((await call(teamRoute.GET, { cookie, params: { teamId: "../etc/passwd" } })).status).toBe(404);
  });
});
