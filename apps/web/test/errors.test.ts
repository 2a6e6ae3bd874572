import { afterAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createDb, Prisma } from "@wyolo/db";
import { AppError, toErrorResponse, validationError } from "../src/server/errors";
import { jsonNestingExceeds, unsafeInputFields } from "../src/server/input-safety";

describe("error answers", () => {
  it("answers unknown errors with 500 and no internals", async () => {
    const res = toErrorResponse(new Error("connect ECONNRESET db-internal-host:5432 password=hunter2"));
    expect(res.status).toBe(500);
    const text = await res.text();
    expect(text).not.toContain("hunter2");
    expect(text).not.toContain("db-internal-host");
    expect(JSON.parse(text).error.code).toBe("INTERNAL");
  });

  it("maps a Redis outage to 503", async () => {
    const res = toErrorResponse(new Error("Stream isn't writeable and enableOfflineQueue options is false"));
    expect(res.status).toBe(503);
  });

  it("turns zod issues into field messages", async () => {
    const result = z.object({ a: z.object({ b: z.string() }) }).safeParse({ a: { b: 1 } });
    const res = toErrorResponse(validationError(result.error!));
    expect(res.status).toBe(422);
    expect((await res.json()).error.fields["a.b"]).toHaveLength(1);
  });

  it("keeps AppError codes and messages", async () => {
    const res = toErrorResponse(new AppError("FORBIDDEN", "Your role does not allow this"));
    expect(res.status).toBe(403);
    expect(await res.json()).toEqual({ error: { code: "FORBIDDEN", message: "Your role does not allow this" } });
  });
});

describe("dependency and race errors", () => {
  // A real Prisma client over the pg adapter, pointed at a port where nothing listens.
  const unreachable = createDb("postgresql://postgres@127.0.0.1:1/none");
  afterAll(() => unreachable.$disconnect());

  it("maps Postgres being unreachable to 503, whichever way the query was made", async () => {
    const failures = await Promise.all([
      unreachable.user.findUnique({ where: { id: "x" } }).catch((e: unknown) => e),
      unreachable.$queryRaw`SELECT 1`.catch((e: unknown) => e),
      unreachable.$transaction(async (tx) => tx.team.count()).catch((e: unknown) => e),
    ]);
    for (const err of failures) {
      const res = toErrorResponse(err);
      expect(res.status).toBe(503);
      const text = await res.text();
      expect(JSON.parse(text).error.message).toBe("The database is unavailable; try again shortly");
      expect(text).not.toContain("127.0.0.1");
    }
    // node-postgres' own words when a connection dies under a query
    expect(toErrorResponse(new Error("Connection terminated unexpectedly")).status).toBe(503);
  });

  it("keeps the Redis outage answer", async () => {
    const res = toErrorResponse(new Error("connect ECONNREFUSED 127.0.0.1:6379"));
    expect(res.status).toBe(503);
    expect((await res.json()).error.message).toMatch(/Redis/);
  });

  it("maps a unique violation nobody handled to 409, from Prisma or from a raw query", async () => {
    const modelQuery = new Prisma.PrismaClientKnownRequestError("Unique constraint failed on the fields: (`email`)", {
      code: "P2002",
      clientVersion: "6",
    });
    const rawQuery = new Prisma.PrismaClientKnownRequestError("Raw query failed. Code: `23505`.", {
      code: "P2010",
      clientVersion: "6",
      meta: { driverAdapterError: { name: "DriverAdapterError", cause: { originalCode: "23505", kind: "UniqueConstraintViolation" } } },
    });
    for (const err of [modelQuery, rawQuery]) {
      const res = toErrorResponse(err);
      expect(res.status).toBe(409);
      expect((await res.json()).error.code).toBe("CONFLICT");
    }
  });

  it("still answers other database errors 500 without internals", async () => {
    const res = toErrorResponse(
      new Prisma.PrismaClientKnownRequestError("Foreign key constraint violated on secret_table", { code: "P2003", clientVersion: "6" }),
    );
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("secret_table");
  });
});

describe("hostile input checks", () => {
  it("finds nesting past 64 levels in JSON text without parsing it, ignoring brackets inside strings", () => {
    expect(jsonNestingExceeds("[".repeat(64) + "]".repeat(64))).toBe(false);
    expect(jsonNestingExceeds("[".repeat(65) + "]".repeat(65))).toBe(true);
    expect(jsonNestingExceeds(String.raw`{"a": "[[[[[[[[[[", "b": "\"[[[["}`, 3)).toBe(false);
    expect(jsonNestingExceeds("[".repeat(1_000_000))).toBe(true);
  });

  it("names NUL, lone surrogates and __proto__ keys at their exact path", () => {
    const value = JSON.parse(String.raw`{"a": {"b": ["ok", "x\u0000"]}, "c": "\ud800", "d": "\ud83d\ude00", "__proto__": 1, "e\u0000": 2}`);
    expect(unsafeInputFields(value)).toEqual({
      "a.b.1": ["Must not contain NUL (\\u0000) characters"],
      c: ["Must be valid Unicode text (it has a lone surrogate such as \\ud800)"],
      ["__proto__"]: ["`__proto__` is not allowed as a key"],
      "e\\u0000": ["Keys must not contain NUL characters or lone surrogates"],
    });
    expect(unsafeInputFields({ fine: ["text", 1, null, { emoji: "😀" }] })).toBeNull();
  });

  it("stops at depth 64 and at cycles (YAML aliases make them), under a field prefix", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(unsafeInputFields({ loop: cyclic }, ["config"])).toEqual({ "config.loop": ["Nested more than 64 levels deep"] });
    let deep: unknown = 1;
    for (let i = 0; i < 64; i++) deep = [deep];
    expect(unsafeInputFields(deep)).toBeNull();
    expect(unsafeInputFields([deep])).toEqual({ "0": ["Nested more than 64 levels deep"] });
  });
});
