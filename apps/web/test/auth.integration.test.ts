import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { redis } from "@/server/redis";
import { authorizeCredentials, SIGN_IN_FAILED, SIGN_IN_THROTTLED } from "@/server/auth/options";
import { userFromSessionToken, readSessionToken } from "@/server/auth/session";
import * as passwordRoute from "@/app/api/v1/account/password/route";
import * as meRoute from "@/app/api/v1/me/route";
import * as adminUserRoute from "@/app/api/v1/admin/users/[userId]/route";
import { PASSWORD, call, createUser, sessionCookie, uniqueEmail } from "../../../test/integration/helpers";

const ip = () => `10.${randomBytes(1)[0]}.${randomBytes(1)[0]}.${randomBytes(1)[0]}`;
const tokenOf = (cookie: string) => readSessionToken(new Map([cookie.split("=") as [string, string]]));

describe("sign-in", () => {
  it("accepts the right password whatever the email's case", async () => {
    const user = await createUser();
    const result = await authorizeCredentials({ email: user.email.toUpperCase(), password: PASSWORD }, ip());
    expect(result).toMatchObject({ id: user.id, sessionVersion: 0 });
    expect(await db.auditLog.count({ where: { actorId: user.id, action: "auth.sign_in" } })).toBe(1);
  });

  it("gives the same message for a wrong password and an unknown email", async () => {
    const user = await createUser();
    const from = ip();
    await expect(authorizeCredentials({ email: user.email, password: "wrong-password" }, from)).rejects.toThrow(SIGN_IN_FAILED);
    await expect(authorizeCredentials({ email: uniqueEmail("ghost"), password: "wrong-password" }, from)).rejects.toThrow(SIGN_IN_FAILED);
    await expect(authorizeCredentials({ email: "not an email", password: "" }, from)).rejects.toThrow(SIGN_IN_FAILED);
  });

  it("throttles an account after 5 failures, even with the right password, from any IP", async () => {
    const user = await createUser();
    for (let i = 0; i < 5; i++) await expect(authorizeCredentials({ email: user.email, password: "nope-nope" }, ip())).rejects.toThrow(SIGN_IN_FAILED);
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, ip())).rejects.toThrow(SIGN_IN_THROTTLED);
    // The count lives in Redis, so every web process shares it.
    expect(Number(await redis.get(`wyolo:login-fail:account:${user.email}`))).toBe(5);
  });

  it("throttles an IP after 30 failures across accounts, and says the same for emails that do not exist", async () => {
    const from = ip();
    for (let i = 0; i < 30; i++) await expect(authorizeCredentials({ email: uniqueEmail("spray"), password: "nope-nope" }, from)).rejects.toThrow(SIGN_IN_FAILED);
    const user = await createUser();
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, from)).rejects.toThrow(SIGN_IN_THROTTLED);
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, ip())).resolves.toMatchObject({ id: user.id });
  });

  it("refuses a disabled user with the generic message", async () => {
    const user = await createUser();
    await db.user.update({ where: { id: user.id }, data: { disabled: true } });
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, ip())).rejects.toThrow(SIGN_IN_FAILED);
  });

  it("stores emails lower-cased: the database refuses a mixed-case duplicate", async () => {
    const user = await createUser();
    await expect(db.user.create({ data: { email: user.email.toUpperCase(), name: "Dup" } })).rejects.toThrow();
  });
});

describe("sessions", () => {
  it("ends a user's sessions when a platform admin disables them", async () => {
    const admin = await createUser({ isPlatformAdmin: true });
    const user = await createUser();
    const cookie = await sessionCookie(user);
    expect((await call(meRoute.GET, { cookie })).status).toBe(200);
    const res = await call(adminUserRoute.PATCH, { cookie: await sessionCookie(admin), method: "PATCH", params: { userId: user.id }, body: { disabled: true } });
    expect(res.status).toBe(200);
    expect((await call(meRoute.GET, { cookie })).status).toBe(401);
    // Re-enabling does not revive the old token: its session version is gone.
    await call(adminUserRoute.PATCH, { cookie: await sessionCookie(admin), method: "PATCH", params: { userId: user.id }, body: { disabled: false } });
    expect(await userFromSessionToken(tokenOf(cookie))).toBeNull();
  });

  it("refuses the admin user endpoints to non-admins", async () => {
    const user = await createUser();
    const other = await createUser();
    const res = await call(adminUserRoute.PATCH, { cookie: await sessionCookie(user), method: "PATCH", params: { userId: other.id }, body: { disabled: true } });
    expect(res.status).toBe(403);
  });

  it("changes the password, checks the current one, and ends older sessions", async () => {
    const user = await createUser();
    const cookie = await sessionCookie(user);
    const wrong = await call(passwordRoute.POST, { cookie, body: { currentPassword: "not-it-at-all", newPassword: "brand-new-password" } });
    expect(wrong.status).toBe(422);
    expect(wrong.body.error.fields.currentPassword).toEqual(["Wrong password"]);
    const short = await call(passwordRoute.POST, { cookie, body: { currentPassword: PASSWORD, newPassword: "short" } });
    expect(short.status).toBe(422);
    expect(short.body.error.fields.newPassword).toBeDefined();

    const ok = await call(passwordRoute.POST, { cookie, body: { currentPassword: PASSWORD, newPassword: "brand-new-password" } });
    expect(ok.status).toBe(204);
    expect((await call(meRoute.GET, { cookie })).status).toBe(401);
    await expect(authorizeCredentials({ email: user.email, password: "brand-new-password" }, ip())).resolves.toMatchObject({ sessionVersion: 1 });
  });

  it("ignores tampered and foreign tokens", async () => {
    expect(await userFromSessionToken("garbage")).toBeNull();
    const user = await createUser();
    const token = tokenOf(await sessionCookie(user))!;
    expect(await userFromSessionToken(token.slice(0, -4) + "AAAA")).toBeNull();
  });

  it("never returns password hashes from the API", async () => {
    const user = await createUser();
    const me = await call(meRoute.GET, { cookie: await sessionCookie(user) });
    expect(JSON.stringify(me.body)).not.toMatch(/passwordHash|argon2/);
  });
});
