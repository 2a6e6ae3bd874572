import { randomBytes } from "node:crypto";
// next-auth's own dependencies, to build a token without a jti (its encode always sets one).
import hkdf from "@panva/hkdf";
import { EncryptJWT } from "jose";
import { decode } from "next-auth/jwt";
import { describe, expect, it, vi } from "vitest";
import { db } from "@/server/db";
import { redis } from "@/server/redis";
import { authOptions, authorizeCredentials, SIGN_IN_FAILED, SIGN_IN_THROTTLED } from "@/server/auth/options";
import { loginDelayMs } from "@/server/auth/rate-limit";
import { SESSION_COOKIE, userFromSessionToken, readSessionToken } from "@/server/auth/session";
import * as passwordRoute from "@/app/api/v1/account/password/route";
import * as meRoute from "@/app/api/v1/me/route";
import * as adminUserRoute from "@/app/api/v1/admin/users/[userId]/route";
import { NextAuthBrowser } from "./next-auth-browser";
import { PASSWORD, call, createUser, sessionCookie, uniqueEmail } from "../../../test/integration/helpers";

// Short, so the gate's cap is measurable within a test; read when the env module loads.
const MAX_DELAY_SECONDS = vi.hoisted(() => {
  process.env.LOGIN_MAX_DELAY_SECONDS = "2";
  return 2;
});

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

  it("counts parallel attempts before checking: 40 at once for one account from one IP check 5 passwords", async () => {
    const user = await createUser();
    const from = ip();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => authorizeCredentials({ email: user.email, password: "nope-nope" }, from)),
    );
    const messages = results.map((r) => (r.status === "rejected" ? (r.reason as Error).message : "signed in"));
    expect(messages.filter((m) => m === SIGN_IN_FAILED)).toHaveLength(5);
    expect(messages.filter((m) => m === SIGN_IN_THROTTLED)).toHaveLength(35);
    expect(await db.auditLog.count({ where: { targetId: user.id, action: "auth.sign_in_failed" } })).toBe(5);

    // The right password among 30 more parallel attempts: refused before any check.
    const again = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) => authorizeCredentials({ email: user.email, password: i === 29 ? PASSWORD : "nope-nope" }, from)),
    );
    expect(again.every((r) => r.status === "rejected" && (r.reason as Error).message === SIGN_IN_THROTTLED)).toBe(true);
    expect(await db.auditLog.count({ where: { targetId: user.id, action: { in: ["auth.sign_in_failed", "auth.sign_in"] } } })).toBe(5);
    // The count lives in Redis, so every web process shares it.
    expect(Number(await redis.get(`wyolo:login:pair:${from}/${user.email}`))).toBe(70);
  });

  it("does not sign in the right password sent as the 30th of 30 parallel attempts (the issue's case)", async () => {
    const user = await createUser();
    const from = ip();
    const results = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        authorizeCredentials({ email: user.email, password: i === 29 ? PASSWORD : `guess-${i}-guess` }, from),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(0);
    expect(await db.auditLog.count({ where: { targetId: user.id, action: "auth.sign_in_failed" } })).toBe(5);
  });

  it("gates an account across IPs: 40 parallel wrong attempts from 40 IPs check only LOGIN_MAX_FAILURES_PER_ACCOUNT passwords", async () => {
    const user = await createUser();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => authorizeCredentials({ email: user.email, password: "guess-guess" }, ip())),
    );
    const messages = results.map((r) => (r.status === "rejected" ? (r.reason as Error).message : "signed in"));
    expect(messages.filter((m) => m === SIGN_IN_FAILED)).toHaveLength(5);
    expect(messages.filter((m) => m === SIGN_IN_THROTTLED)).toHaveLength(35);
    expect(await db.auditLog.count({ where: { targetId: user.id, action: "auth.sign_in_failed" } })).toBe(5);
    // The gate's time is set in Redis, never further than LOGIN_MAX_DELAY_SECONDS ahead.
    const at = Number(await redis.hget(`wyolo:login:gate:${user.email}`, "at"));
    expect(at).toBeGreaterThan(Date.now());
    expect(at).toBeLessThanOrEqual(Date.now() + MAX_DELAY_SECONDS * 1000);
  });

  it("does not let strangers lock the owner out: a new IP gets in once the gate opens (≤ LOGIN_MAX_DELAY_SECONDS), a known one at once", async () => {
    const user = await createUser();
    const home = ip();
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, home)).resolves.toMatchObject({ id: user.id });
    // Three waves of 40 IPs, each as soon as the gate opens: the gate moves out 1 s, then 2 s (the cap).
    let checked = 0;
    for (let wave = 0; wave < 3; wave++) {
      const at = Number((await redis.hget(`wyolo:login:gate:${user.email}`, "at")) ?? 0);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
      const results = await Promise.allSettled(
        Array.from({ length: 40 }, () => authorizeCredentials({ email: user.email, password: "guess-guess" }, ip())),
      );
      checked += results.filter((r) => r.status === "rejected" && (r.reason as Error).message === SIGN_IN_FAILED).length;
    }
    expect(checked).toBe(5 + 1 + 1);
    const gate = Number(await redis.hget(`wyolo:login:gate:${user.email}`, "at"));
    expect(gate - Date.now()).toBeLessThanOrEqual(MAX_DELAY_SECONDS * 1000);

    // The owner's usual IP is not gated; a new one is refused at once, without a check...
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, home)).resolves.toMatchObject({ id: user.id });
    const away = ip();
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, away)).rejects.toThrow(SIGN_IN_THROTTLED);
    expect(await db.auditLog.count({ where: { targetId: user.id, action: "auth.sign_in_failed" } })).toBe(7);
    // ...and gets in once the gate opens, at most LOGIN_MAX_DELAY_SECONDS later.
    const started = Date.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, gate - Date.now())));
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, away)).resolves.toMatchObject({ id: user.id });
    expect(Date.now() - started).toBeLessThanOrEqual(MAX_DELAY_SECONDS * 1000 + 500);
  });

  it("counts two IPv6 addresses of one /64 as one (the audit log keeps each address)", async () => {
    const user = await createUser();
    // A group without leading zeros: the key drops them (0a1b → a1b), and the check below reads the key as written.
    const prefix = `2001:db8:${(0x1000 + (randomBytes(2).readUInt16BE() % 0xf000)).toString(16)}:7`;
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => authorizeCredentials({ email: user.email, password: "guess-guess" }, `${prefix}::${i + 1}`)),
    );
    expect(results.filter((r) => r.status === "rejected" && (r.reason as Error).message === SIGN_IN_FAILED)).toHaveLength(5);
    expect(Number(await redis.get(`wyolo:login:pair:${prefix}::/${user.email}`))).toBe(10);
    const logged = await db.auditLog.findMany({ where: { targetId: user.id, action: "auth.sign_in_failed" }, select: { ip: true } });
    expect(logged.every((r) => r.ip?.startsWith(`${prefix}::`) && r.ip !== `${prefix}::`)).toBe(true);
  });

  it("closes an account's gate exponentially longer after LOGIN_MAX_FAILURES_PER_ACCOUNT, capped", () => {
    expect([1, 5, 6, 7, 8, 40].map(loginDelayMs)).toEqual([0, 0, 1000, 2000, 2000, 2000]);
  });

  it("gives back the pair's points on success: a user who mistypes a few times is never throttled by it", async () => {
    const user = await createUser();
    const from = ip();
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++)
        await expect(authorizeCredentials({ email: user.email, password: "typo-typo" }, from)).rejects.toThrow(SIGN_IN_FAILED);
      await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, from)).resolves.toMatchObject({ id: user.id });
      // Nothing left on the account (no gate builds up) nor on the IP.
      expect(Number((await redis.hget(`wyolo:login:gate:${user.email}`, "n")) ?? 0)).toBe(0);
      expect(Number(await redis.get(`wyolo:login:ip:${from}`))).toBe(0);
    }
  });

  it("throttles an IP after 30 failures across accounts, with the same message, and says the same for emails that do not exist", async () => {
    const from = ip();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => authorizeCredentials({ email: uniqueEmail("spray"), password: "nope-nope" }, from)),
    );
    expect(results.filter((r) => r.status === "rejected" && (r.reason as Error).message === SIGN_IN_FAILED)).toHaveLength(30);
    expect(await db.auditLog.count({ where: { ip: from, action: "auth.sign_in_failed" } })).toBe(30);
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
    const res = await call(adminUserRoute.PATCH, {
      cookie: await sessionCookie(admin),
      method: "PATCH",
      params: { userId: user.id },
      body: { disabled: true },
    });
    expect(res.status).toBe(200);
    expect((await call(meRoute.GET, { cookie })).status).toBe(401);
    // Re-enabling does not revive the old token: its session version is gone.
    await call(adminUserRoute.PATCH, {
      cookie: await sessionCookie(admin),
      method: "PATCH",
      params: { userId: user.id },
      body: { disabled: false },
    });
    expect(await userFromSessionToken(tokenOf(cookie))).toBeNull();
  });

  it("refuses the admin user endpoints to non-admins", async () => {
    const user = await createUser();
    const other = await createUser();
    const res = await call(adminUserRoute.PATCH, {
      cookie: await sessionCookie(user),
      method: "PATCH",
      params: { userId: other.id },
      body: { disabled: true },
    });
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
    await expect(authorizeCredentials({ email: user.email, password: "brand-new-password" }, ip())).resolves.toMatchObject({
      sessionVersion: 1,
    });
  });

  it("throttles wrong current passwords per user, counted before the check: 429 with a clear message", async () => {
    const user = await createUser();
    const cookie = await sessionCookie(user);
    const checked = await Promise.all(
      Array.from({ length: 12 }, () =>
        call(passwordRoute.POST, { cookie, body: { currentPassword: "guess-guess", newPassword: "brand-new-password" } }),
      ),
    );
    expect(checked.filter((r) => r.status === 422)).toHaveLength(5);
    const throttled = checked.filter((r) => r.status === 429);
    expect(throttled).toHaveLength(7);
    expect(throttled[0]!.body.error).toEqual({
      code: "RATE_LIMITED",
      message: "Too many wrong current passwords. Wait a few minutes and try again.",
    });
    // The right one too, until the window passes: the guesses cannot be told apart from it.
    expect(
      (await call(passwordRoute.POST, { cookie, body: { currentPassword: PASSWORD, newPassword: "brand-new-password" } })).status,
    ).toBe(429);
    expect((await call(meRoute.GET, { cookie })).status).toBe(200);
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

describe("sign-out", () => {
  it("revokes the token server-side through next-auth's own sign-out: the old cookie and its refreshed copies answer 401", async () => {
    const user = await createUser();
    const browser = new NextAuthBrowser(ip());
    expect(await browser.signIn(user.email, PASSWORD)).toBe(true);
    const first = browser.sessionCookie();
    expect((await call(meRoute.GET, { cookie: first })).status).toBe(200);
    // next-auth re-encodes the token on every session read (a new jti); both copies are one session.
    expect(await browser.refreshSession()).toMatchObject({ user: { id: user.id } });
    const refreshed = browser.sessionCookie();
    expect(refreshed).not.toBe(first);
    expect((await call(meRoute.GET, { cookie: refreshed })).status).toBe(200);

    await browser.signOut();
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    expect((await call(meRoute.GET, { cookie: first })).status).toBe(401);
    expect((await call(meRoute.GET, { cookie: refreshed })).status).toBe(401);
    expect(await db.auditLog.count({ where: { actorId: user.id, action: "auth.sign_out" } })).toBe(1);

    // A revoked token cannot be refreshed into a new one either: next-auth drops the cookie.
    const thief = new NextAuthBrowser();
    thief.cookies.set(SESSION_COOKIE, tokenOf(first)!);
    expect(await thief.refreshSession()).toEqual({});
    expect(thief.cookies.has(SESSION_COOKIE)).toBe(false);

    // Other sessions of the same user live on, and signing in again works.
    const other = new NextAuthBrowser(ip());
    expect(await other.signIn(user.email, PASSWORD)).toBe(true);
    expect((await call(meRoute.GET, { cookie: other.sessionCookie() })).status).toBe(200);
  });

  it("revokes the tests' tokens (no sid) by their jti, and still accepts a token with neither", async () => {
    const user = await createUser();
    const cookie = await sessionCookie(user);
    const claims = await decode({ token: tokenOf(cookie)!, secret: process.env.NEXTAUTH_SECRET! });
    expect(claims).toMatchObject({ sub: user.id, jti: expect.any(String) });
    expect(claims!.sid).toBeUndefined();
    await authOptions.events!.signOut!({ token: claims! } as Parameters<NonNullable<NonNullable<typeof authOptions.events>["signOut"]>>[0]);
    expect((await call(meRoute.GET, { cookie })).status).toBe(401);
    expect((await call(meRoute.GET, { cookie: await sessionCookie(user) })).status).toBe(200);

    // Neither sid nor jti (encrypted the way next-auth does, without its setJti): nothing to revoke, still a session.
    const key = await hkdf("sha256", process.env.NEXTAUTH_SECRET!, "", "NextAuth.js Generated Encryption Key", 32);
    const bare = await new EncryptJWT({ sub: user.id, sv: 0 })
      .setProtectedHeader({ alg: "dir", enc: "A256GCM" })
      .setIssuedAt()
      .setExpirationTime("1h")
      .encrypt(key);
    expect((await call(meRoute.GET, { cookie: `${SESSION_COOKIE}=${bare}` })).status).toBe(200);
  });

  it("prunes revocations whose tokens have all expired", async () => {
    await db.revokedSession.create({ data: { id: "long-gone", expiresAt: new Date(Date.now() - 1000) } });
    const user = await createUser();
    await authOptions.events!.signOut!({ token: { sub: user.id, sid: "fresh-one" } } as never);
    expect((await db.revokedSession.findMany({ where: { id: { in: ["long-gone", "fresh-one"] } } })).map((r) => r.id)).toEqual([
      "fresh-one",
    ]);
  });
});
