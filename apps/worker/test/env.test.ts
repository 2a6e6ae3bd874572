import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseEnv } from "@wyolo/contracts";
import { workerEnvSchema } from "../src/env.ts";

/** .env.example as the quickstart exports it (NAME=value lines). */
function example(): Record<string, string> {
  const text = readFileSync(path.join(import.meta.dirname, "../../../.env.example"), "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1).replace(/^"(.*)"$/, "$1")]),
  );
}

describe("worker env", () => {
  it("accepts .env.example as it is, empty values taking their defaults", () => {
    const env = parseEnv(workerEnvSchema, example());
    expect(env.WORKER_CONCURRENCY).toBeUndefined();
    expect(env.WEIGHTS_DIR).toBeUndefined();
    expect(env.AUTO_BATCH_FRACTION).toBeUndefined();
    expect(env.WORKER_NAME.length).toBeGreaterThan(0);
    expect(env.MAX_GPU).toBe(90);
  });

  it("names bad values", () => {
    expect(() => parseEnv(workerEnvSchema, { AUTO_BATCH_FRACTION: "1.5" })).toThrow(/AUTO_BATCH_FRACTION/);
    expect(() => parseEnv(workerEnvSchema, { MAX_GPU: "120" })).toThrow(/MAX_GPU/);
  });
});
