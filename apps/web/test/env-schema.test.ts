import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "@wyolo/contracts";
import { webEnvSchema } from "../src/env-schema";

const secret = "s".repeat(32);

describe("web env", () => {
  it("applies defaults for local development", () => {
    const env = parseEnv(webEnvSchema, { NEXTAUTH_SECRET: secret });
    expect(env.DATABASE_URL).toBe("postgresql://postgres@127.0.0.1:5432/wyolo");
    expect(env.REDIS_URL).toBe("redis://127.0.0.1:6379");
    expect(env.PORT).toBe(3000);
  });

  it("names a missing secret without printing values", () => {
    expect(() => parseEnv(webEnvSchema, { DATABASE_URL: "postgresql://u:topsecret@db/x" })).toThrow(EnvError);
    try {
      parseEnv(webEnvSchema, { NEXTAUTH_SECRET: "short", DATABASE_URL: "postgresql://u:topsecret@db/x" });
    } catch (err) {
      expect((err as Error).message).toContain("NEXTAUTH_SECRET");
      expect((err as Error).message).not.toContain("topsecret");
      expect((err as Error).message).not.toContain("short");
    }
  });

  it("refuses a half-configured OIDC provider, naming what is missing", () => {
    expect(() => parseEnv(webEnvSchema, { NEXTAUTH_SECRET: secret, OIDC_ISSUER: "https://id.example.com" })).toThrow(/OIDC_CLIENT_ID[\s\S]*OIDC_CLIENT_SECRET/);
  });

  it("refuses a port that is not a number", () => {
    expect(() => parseEnv(webEnvSchema, { NEXTAUTH_SECRET: secret, PORT: "http" })).toThrow(/PORT/);
  });
});
