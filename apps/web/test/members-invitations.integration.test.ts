import { describe, expect, it } from "vitest";
import { db } from "@/server/db";
import * as membersRoute from "@/app/api/v1/teams/[teamId]/members/route";
import * as memberRoute from "@/app/api/v1/teams/[teamId]/members/[userId]/route";
import * as invitationsRoute from "@/app/api/v1/teams/[teamId]/invitations/route";
import * as invitationRoute from "@/app/api/v1/teams/[teamId]/invitations/[invitationId]/route";
import * as transferRoute from "@/app/api/v1/teams/[teamId]/transfer/route";
import * as previewRoute from "@/app/api/v1/invitations/preview/route";
import * as acceptRoute from "@/app/api/v1/invitations/accept/route";
import { hashInviteToken } from "@/server/invitations/token";
import { call, createTeamWith, createUser, sessionCookie, uniqueEmail } from "../../../test/integration/helpers";

async function invite(teamId: string, cookie: string, email: string, role = "VIEWER") {
  const res = await call(invitationsRoute.POST, { cookie, params: { teamId }, body: { email, role } });
  expect(res.status).toBe(201);
  return { ...res.body.invitation, token: new URL(res.body.invitation.url).pathname.split("/").pop() as string };
}

describe("invitations", () => {
  it("stores only the token's hash, and signs a new user up through a single-use link", async () => {
    const owner = await createUser();
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const email = uniqueEmail("New.Person").replace("new.person", "New.Person");
    const inv = await invite(team.id, await sessionCookie(owner), email);

    const row = await db.invitation.findUniqueOrThrow({ where: { id: inv.id } });
    expect(row.tokenHash).toBe(hashInviteToken(inv.token));
    expect(JSON.stringify(row)).not.toContain(inv.token);
    expect(row.email).toBe(email.toLowerCase());

    const preview = await call(previewRoute.POST, { body: { token: inv.token } });
    expect(preview.body.invitation).toMatchObject({ teamName: team.name, role: "VIEWER", hasAccount: false });

    const missing = await call(acceptRoute.POST, { body: { token: inv.token } });
    expect(missing.status).toBe(422);
    expect(Object.keys(missing.body.error.fields).sort()).toEqual(["name", "password"]);

    const accepted = await call(acceptRoute.POST, { body: { token: inv.token, name: "New Person", password: "a-long-password" } });
    expect(accepted.status).toBe(201);
    const user = await db.user.findUniqueOrThrow({ where: { email: email.toLowerCase() } });
    const membership = await db.membership.findUniqueOrThrow({ where: { teamId_userId: { teamId: team.id, userId: user.id } } });
    expect(membership.role).toBe("VIEWER");

    const again = await call(acceptRoute.POST, { body: { token: inv.token, name: "Someone", password: "another-password" } });
    expect(again.status).toBe(410);
  });

  it("joins a signed-in user whose email matches, and refuses a different account", async () => {
    const owner = await createUser();
    const invitee = await createUser();
    const stranger = await createUser();
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const inv = await invite(team.id, await sessionCookie(owner), invitee.email, "MEMBER");

    const wrong = await call(acceptRoute.POST, { cookie: await sessionCookie(stranger), body: { token: inv.token } });
    expect(wrong.status).toBe(403);
    const anonymous = await call(acceptRoute.POST, { body: { token: inv.token, name: "x", password: "a-long-password" } });
    expect(anonymous.status).toBe(409);

    const ok = await call(acceptRoute.POST, { cookie: await sessionCookie(invitee), body: { token: inv.token } });
    expect(ok.status).toBe(201);
    expect(ok.body.membership.role).toBe("MEMBER");
  });

  it("refuses expired and revoked links without creating anything", async () => {
    const owner = await createUser();
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const cookie = await sessionCookie(owner);
    const expiredEmail = uniqueEmail();
    const expired = await invite(team.id, cookie, expiredEmail);
    await db.invitation.update({ where: { id: expired.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const res = await call(acceptRoute.POST, { body: { token: expired.token, name: "Late", password: "a-long-password" } });
    expect(res.status).toBe(410);
    expect(await db.user.count({ where: { email: expiredEmail } })).toBe(0);

    const revoked = await invite(team.id, cookie, uniqueEmail());
    expect(
      (await call(invitationRoute.DELETE, { cookie, method: "DELETE", params: { teamId: team.id, invitationId: revoked.id } })).status,
    ).toBe(204);
    expect((await call(previewRoute.POST, { body: { token: revoked.token } })).status).toBe(404);
    expect((await call(previewRoute.POST, { body: { token: "short" } })).status).toBe(422);
  });

  it("lets two concurrent accepts of one link produce one membership", async () => {
    const owner = await createUser();
    const invitee = await createUser();
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const inv = await invite(team.id, await sessionCookie(owner), invitee.email);
    const cookie = await sessionCookie(invitee);
    const results = await Promise.all([
      call(acceptRoute.POST, { cookie, body: { token: inv.token } }),
      call(acceptRoute.POST, { cookie, body: { token: inv.token } }),
    ]);
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    // The loser is told the link is used or that they are already in: never a 500.
    expect([409, 410]).toContain(results.find((r) => r.status !== 201)!.status);
    expect(await db.membership.count({ where: { teamId: team.id, userId: invitee.id } })).toBe(1);
  });

  it("keeps invitations to ADMINs and OWNERs: members and viewers cannot invite; admins cannot invite owners", async () => {
    const owner = await createUser();
    const admin = await createUser();
    const member = await createUser();
    const team = await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: admin.id, role: "ADMIN" },
      { userId: member.id, role: "MEMBER" },
    ]);
    const byMember = await call(invitationsRoute.POST, {
      cookie: await sessionCookie(member),
      params: { teamId: team.id },
      body: { email: uniqueEmail(), role: "VIEWER" },
    });
    expect(byMember.status).toBe(403);
    const ownerByAdmin = await call(invitationsRoute.POST, {
      cookie: await sessionCookie(admin),
      params: { teamId: team.id },
      body: { email: uniqueEmail(), role: "OWNER" },
    });
    expect(ownerByAdmin.status).toBe(403);
    const list = await call(invitationsRoute.GET, { cookie: await sessionCookie(admin), params: { teamId: team.id } });
    expect(list.status).toBe(200);
    expect(JSON.stringify(list.body)).not.toMatch(/token/i);
  });
});

describe("members and roles", () => {
  it("never lets the last OWNER be demoted or leave", async () => {
    const owner = await createUser();
    const team = await createTeamWith([{ userId: owner.id, role: "OWNER" }]);
    const cookie = await sessionCookie(owner);
    const demote = await call(memberRoute.PATCH, {
      cookie,
      method: "PATCH",
      params: { teamId: team.id, userId: owner.id },
      body: { role: "ADMIN" },
    });
    expect(demote.status).toBe(409);
    const leave = await call(memberRoute.DELETE, { cookie, method: "DELETE", params: { teamId: team.id, userId: owner.id } });
    expect(leave.status).toBe(409);
    expect((await db.membership.findFirstOrThrow({ where: { teamId: team.id, userId: owner.id } })).role).toBe("OWNER");
  });

  it("keeps one owner when two owners demote each other at the same time", async () => {
    const a = await createUser();
    const b = await createUser();
    const team = await createTeamWith([
      { userId: a.id, role: "OWNER" },
      { userId: b.id, role: "OWNER" },
    ]);
    await Promise.all([
      call(memberRoute.PATCH, {
        cookie: await sessionCookie(a),
        method: "PATCH",
        params: { teamId: team.id, userId: b.id },
        body: { role: "ADMIN" },
      }),
      call(memberRoute.PATCH, {
        cookie: await sessionCookie(b),
        method: "PATCH",
        params: { teamId: team.id, userId: a.id },
        body: { role: "ADMIN" },
      }),
    ]);
    expect(await db.membership.count({ where: { teamId: team.id, role: "OWNER" } })).toBeGreaterThanOrEqual(1);
  });

  it("lets an ADMIN change MEMBER/VIEWER roles but not touch the OWNER role", async () => {
    const owner = await createUser();
    const admin = await createUser();
    const viewer = await createUser();
    const team = await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: admin.id, role: "ADMIN" },
      { userId: viewer.id, role: "VIEWER" },
    ]);
    const cookie = await sessionCookie(admin);
    const promote = await call(memberRoute.PATCH, {
      cookie,
      method: "PATCH",
      params: { teamId: team.id, userId: viewer.id },
      body: { role: "MEMBER" },
    });
    expect(promote.status).toBe(200);
    const toOwner = await call(memberRoute.PATCH, {
      cookie,
      method: "PATCH",
      params: { teamId: team.id, userId: viewer.id },
      body: { role: "OWNER" },
    });
    expect(toOwner.status).toBe(403);
    const demoteOwner = await call(memberRoute.PATCH, {
      cookie,
      method: "PATCH",
      params: { teamId: team.id, userId: owner.id },
      body: { role: "VIEWER" },
    });
    expect(demoteOwner.status).toBe(403);
    const removeOwner = await call(memberRoute.DELETE, { cookie, method: "DELETE", params: { teamId: team.id, userId: owner.id } });
    expect(removeOwner.status).toBe(403);
    const badRole = await call(memberRoute.PATCH, {
      cookie,
      method: "PATCH",
      params: { teamId: team.id, userId: viewer.id },
      body: { role: "GOD" },
    });
    expect(badRole.status).toBe(422);
    expect(badRole.body.error.fields.role).toBeDefined();
  });

  it("lets a VIEWER list members and leave, but not remove others", async () => {
    const owner = await createUser();
    const viewer = await createUser();
    const member = await createUser();
    const team = await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: viewer.id, role: "VIEWER" },
      { userId: member.id, role: "MEMBER" },
    ]);
    const cookie = await sessionCookie(viewer);
    const list = await call(membersRoute.GET, { cookie, params: { teamId: team.id } });
    expect(list.body.members.map((m: { role: string }) => m.role)).toEqual(["OWNER", "MEMBER", "VIEWER"]);
    expect((await call(memberRoute.DELETE, { cookie, method: "DELETE", params: { teamId: team.id, userId: member.id } })).status).toBe(403);
    expect((await call(memberRoute.DELETE, { cookie, method: "DELETE", params: { teamId: team.id, userId: viewer.id } })).status).toBe(204);
    expect((await call(membersRoute.GET, { cookie, params: { teamId: team.id } })).status).toBe(404);
  });

  it("transfers ownership: the new owner is OWNER, the old one ADMIN", async () => {
    const owner = await createUser();
    const admin = await createUser();
    const team = await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: admin.id, role: "ADMIN" },
    ]);
    expect(
      (await call(transferRoute.POST, { cookie: await sessionCookie(admin), params: { teamId: team.id }, body: { userId: admin.id } }))
        .status,
    ).toBe(403);
    expect(
      (await call(transferRoute.POST, { cookie: await sessionCookie(owner), params: { teamId: team.id }, body: { userId: admin.id } }))
        .status,
    ).toBe(204);
    const roles = await db.membership.findMany({ where: { teamId: team.id }, select: { userId: true, role: true } });
    expect(Object.fromEntries(roles.map((r) => [r.userId, r.role]))).toEqual({ [owner.id]: "ADMIN", [admin.id]: "OWNER" });
  });
});
