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
    expect(() => parseEnv(webEnvSchema, { NEXTAUTH_SECRET: secret, OIDC_ISSUER: "https://id.example.com" })).toThrow(
      /OIDC_CLIENT_ID[\s\S]*OIDC_CLIENT_SECRET/,
    );
  });

  it("treats empty variables (NAME= in .env) as unset", () => {
    const env = parseEnv(webEnvSchema, { NEXTAUTH_SECRET: secret, PORT: "", OIDC_ISSUER: "", OIDC_CLIENT_ID: "", OIDC_CLIENT_SECRET: "" });
    expect(env.PORT).toBe(3000);
    expect(env.OIDC_ISSUER).toBeUndefined();
  });

  it("refuses a port that is not a number", () => {
    expect(() => parseEnv(webEnvSchema, { NEXTAUTH_SECRET: secret, PORT: "http" })).toThrow(/PORT/);
  });
});

describe(".env.example", () => {
  it("is accepted by the web app once the quickstart fills NEXTAUTH_SECRET", async () => {
    const { readFileSync } = await import("node:fs");
    const path = await import("node:path");
    const text = readFileSync(path.join(import.meta.dirname, "../../../.env.example"), "utf8");
    const vars = Object.fromEntries(
      text
        .split("\n")
        .filter((l) => /^[A-Z_]+=/.test(l))
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).replace(/^"(.*)"$/, "$1")]),
    );
    expect(() => parseEnv(webEnvSchema, { ...vars, NEXTAUTH_SECRET: secret })).not.toThrow();
  });
});
