import { describe, expect, it } from "vitest";
import { bearerToken, hashApiToken, isTokenShaped, newApiToken } from "@/server/tokens/token-secret";
import { tokenExpiry } from "@/server/tokens/token-expiry";

describe("API token text", () => {
  it("is wyolo_ + 43 base64url characters, different each time, stored as its SHA-256 hex", () => {
    const a = newApiToken();
    const b = newApiToken();
    expect(a.token).toMatch(/^wyolo_[A-Za-z0-9_-]{43}$/);
    expect(a.token).not.toBe(b.token);
    expect(a.prefix).toBe(a.token.slice(0, 14));
    expect(a.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(a.tokenHash).toBe(hashApiToken(a.token));
    expect(isTokenShaped(a.token)).toBe(true);
    expect(isTokenShaped("wyolo_short")).toBe(false);
    expect(isTokenShaped(`ghp_${"a".repeat(43)}`)).toBe(false);
  });

  it("is read from a Bearer header only; other schemes are left alone", () => {
    expect(bearerToken("Bearer wyolo_abc")).toBe("wyolo_abc");
    expect(bearerToken("bearer   wyolo_abc  ")).toBe("wyolo_abc");
    expect(bearerToken("Bearer")).toBe("");
    expect(bearerToken("Basic dXNlcjpwYXNz")).toBeNull();
    expect(bearerToken("Bearerwyolo_abc")).toBeNull();
    expect(bearerToken(null)).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });

  it("expires on the given date, after the given days, or after 90 days", () => {
    const now = Date.UTC(2026, 0, 1);
    const date = new Date(Date.UTC(2026, 5, 1));
    expect(tokenExpiry({ expiresAt: date, expiresInDays: 5 }, now)).toBe(date);
    expect(tokenExpiry({ expiresInDays: 30 }, now).getTime()).toBe(now + 30 * 86_400_000);
    expect(tokenExpiry({}, now).getTime()).toBe(now + 90 * 86_400_000);
  });
});
