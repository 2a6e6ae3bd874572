import { describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, toErrorResponse, validationError } from "../src/server/errors";

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
