import { describe, expect, it } from "vitest";

// This file's web modules talk to a Redis that is not there (nothing listens on port 1).
process.env.REDIS_URL = "redis://127.0.0.1:1";

describe("sign-in limits while Redis is down", () => {
  it("still hold, per process, and still count attempts before checking them", async () => {
    const { db } = await import("@/server/db");
    const { authorizeCredentials, SIGN_IN_FAILED, SIGN_IN_THROTTLED } = await import("@/server/auth/options");
    const { PASSWORD, createUser } = await import("../../../test/integration/helpers");
    const user = await createUser();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => authorizeCredentials({ email: user.email, password: "nope-nope" }, "10.9.9.9")),
    );
    const messages = results.map((r) => (r.status === "rejected" ? (r.reason as Error).message : "signed in"));
    expect(messages.filter((m) => m === SIGN_IN_FAILED)).toHaveLength(5);
    expect(messages.filter((m) => m === SIGN_IN_THROTTLED)).toHaveLength(35);
    expect(await db.auditLog.count({ where: { targetId: user.id, action: "auth.sign_in_failed" } })).toBe(5);
    // The owner elsewhere waits for the account's gate (1 s after the free attempts), not for the window.
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, "10.8.8.8")).rejects.toThrow(SIGN_IN_THROTTLED);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    await expect(authorizeCredentials({ email: user.email, password: PASSWORD }, "10.8.8.8")).resolves.toMatchObject({ id: user.id });
  });

  it("gates an account across IPs, per process: 40 parallel attempts from 40 IPs check 5 passwords", async () => {
    const { db } = await import("@/server/db");
    const { authorizeCredentials, SIGN_IN_FAILED } = await import("@/server/auth/options");
    const { createUser } = await import("../../../test/integration/helpers");
    const user = await createUser();
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, (_, i) => authorizeCredentials({ email: user.email, password: "nope-nope" }, `10.7.7.${i + 1}`)),
    );
    expect(results.filter((r) => r.status === "rejected" && (r.reason as Error).message === SIGN_IN_FAILED)).toHaveLength(5);
    expect(await db.auditLog.count({ where: { targetId: user.id, action: "auth.sign_in_failed" } })).toBe(5);
  });
});
