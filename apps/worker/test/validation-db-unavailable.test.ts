import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DelayedError } from "bullmq";
import { afterAll, describe, expect, it, vi } from "vitest";
import type { Db } from "@wyolo/db";
import type { JobContext } from "../src/catalog.ts";
import { createLogger } from "../src/logger.ts";
import { validateVersion, type ValidationRuntime } from "../src/datasets/validate-version.ts";

const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-validation-outage-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const unreachable = () => Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: "P1001" });

function setup(db: Partial<Record<string, unknown>>) {
  const moveToDelayed = vi.fn(async () => {});
  // The last attempt: a failure that spent it would write INVALID.
  const ctx = {
    job: { id: "validate-v1", moveToDelayed, attemptsMade: 2, opts: { attempts: 3 } },
    token: "t",
    signal: new AbortController().signal,
    log: createLogger("silent", "test"),
  } as unknown as JobContext;
  const rt = {
    db: db as unknown as Db,
    env: { WORKER_DATA_DIR: dataDir, WORKER_NAME: "w1" },
    objects: {},
    publish: vi.fn(),
  } as unknown as ValidationRuntime;
  return { ctx, rt, moveToDelayed };
}

describe("a dataset validation while Postgres is unavailable", () => {
  it("goes back to the queue without spending an attempt when the version cannot be read", async () => {
    const { ctx, rt, moveToDelayed } = setup({ datasetVersion: { findUnique: () => Promise.reject(unreachable()) } });
    await expect(validateVersion({ versionId: "v1" }, ctx, rt)).rejects.toBeInstanceOf(DelayedError);
    expect(moveToDelayed).toHaveBeenCalledOnce();
  });

  it("on its last attempt, Postgres lost midway hands it back instead of writing INVALID", async () => {
    const $transaction = vi.fn();
    const { ctx, rt, moveToDelayed } = setup({
      datasetVersion: {
        findUnique: () =>
          Promise.resolve({
            id: "v1",
            status: "VALIDATING",
            version: 1,
            datasetId: "d1",
            uploadKey: "k",
            removedPaths: null,
            dataset: { teamId: "t1", name: "shapes" },
            parent: null,
          }),
        updateMany: () => Promise.reject(unreachable()),
      },
      $transaction,
    });
    await expect(validateVersion({ versionId: "v1" }, ctx, rt)).rejects.toBeInstanceOf(DelayedError);
    expect(moveToDelayed).toHaveBeenCalledOnce();
    expect($transaction).not.toHaveBeenCalled();
  });
});
