import { describe, expect, it } from "vitest";
import type { SweepSettings } from "@wyolo/contracts";
import { isStorageUnavailable, OptunaBridgeError, optunaStorageUrl, studySpecFor } from "../src/sweeps/optuna-bridge.ts";

describe("optunaStorageUrl", () => {
  it("turns a Prisma URL into SQLAlchemy's, in schema optuna, without Prisma's own parameters", () => {
    expect(optunaStorageUrl("postgresql://wyolo:s%40cret@db.internal:5433/wyolo?schema=public&connection_limit=5&pool_timeout=10")).toBe(
      "postgresql+psycopg2://wyolo:s%40cret@db.internal:5433/wyolo?options=-csearch_path%3Doptuna",
    );
  });

  it("keeps what libpq understands and accepts postgres://", () => {
    expect(optunaStorageUrl("postgres://u@h/d?sslmode=require&connect_timeout=5&pgbouncer=true")).toBe(
      "postgresql+psycopg2://u@h/d?sslmode=require&connect_timeout=5&options=-csearch_path%3Doptuna",
    );
    expect(optunaStorageUrl("postgresql://postgres@127.0.0.1:5432/x?options=-c%20statement_timeout%3D5000")).toBe(
      "postgresql+psycopg2://postgres@127.0.0.1:5432/x?options=-c%20statement_timeout%3D5000%20-csearch_path%3Doptuna",
    );
  });

  it("refuses a database that is not Postgres", () => {
    expect(() => optunaStorageUrl("mysql://u@h/d")).toThrow(/postgresql/);
  });
});

describe("studySpecFor", () => {
  it("names the study after the sweep and carries the settings the bridge needs", () => {
    const settings = {
      algorithm: "optuna",
      n_trials: 10,
      direction: "maximize",
      sampler: "TPESampler",
      pruner: "hyperband",
      grace_period: 2,
      objective: "fitness",
      parallel: 2,
      search_space: { lr0: { type: "float", low: 1e-5, high: 0.1, log: true } },
    } satisfies SweepSettings;
    expect(studySpecFor("abc", settings, 30)).toEqual({
      name: "wyolo-abc",
      direction: "maximize",
      sampler: "TPESampler",
      seed: null,
      pruner: "hyperband",
      grace_period: 2,
      max_epochs: 30,
      space: settings.search_space,
    });
    expect(studySpecFor("abc", { ...settings, seed: 4 }, 30).seed).toBe(4);
  });
});

it("isStorageUnavailable is true for an unreachable database and a call without answer only", () => {
  expect(isStorageUnavailable(new OptunaBridgeError("STORAGE_UNAVAILABLE", "x"))).toBe(true);
  expect(isStorageUnavailable(new OptunaBridgeError("TIMEOUT", "x"))).toBe(true);
  expect(isStorageUnavailable(new OptunaBridgeError("INVALID", "x"))).toBe(false);
  expect(isStorageUnavailable(new Error("STORAGE_UNAVAILABLE"))).toBe(false);
});
