import { DelayedError } from "bullmq";
import { describe, expect, it, vi } from "vitest";
import type { Db } from "@wyolo/db";
import type { JobContext } from "../src/catalog.ts";
import { createLogger } from "../src/logger.ts";
import { runTraining, type TrainingRuntime } from "../src/training/run-training.ts";

// Postgres away when a training is picked up: every query fails the way Prisma says "can't reach".
const unreachable = (error: Error) =>
  new Proxy(
    {},
    {
      get: (_t, key) => {
        if (key === "then") return undefined;
        const fail = () => Promise.reject(error);
        return new Proxy(fail, { get: () => fail });
      },
    },
  ) as unknown as Db;

function setup(error: Error) {
  const moveToDelayed = vi.fn(async () => {});
  const updateProgress = vi.fn(async () => {});
  const ctx = {
    job: { id: "job1", moveToDelayed, updateProgress },
    token: "t",
    signal: new AbortController().signal,
    log: createLogger("silent", "test"),
  } as unknown as JobContext;
  const rt = { db: unreachable(error), env: {} } as unknown as TrainingRuntime;
  return { ctx, rt, moveToDelayed, updateProgress };
}

describe("a training while Postgres is unavailable", () => {
  it("goes back to the queue for a later try (no BullMQ retry, no status change, no loss counted)", async () => {
    const err = Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: "P1001" });
    const { ctx, rt, moveToDelayed, updateProgress } = setup(err);
    const before = Date.now();
    await expect(runTraining({ jobId: "job1" }, ctx, rt)).rejects.toBeInstanceOf(DelayedError);
    expect(moveToDelayed).toHaveBeenCalledOnce();
    const [until, token] = moveToDelayed.mock.calls[0] as unknown as [number, string];
    expect(until).toBeGreaterThanOrEqual(before + 5_000);
    expect(token).toBe("t");
    // Marked, so that the next pickup does not take a row left on this worker for a lost one.
    expect(updateProgress).toHaveBeenCalledWith({ handedBack: "postgres-unavailable" });
  });

  it("passes other errors on as they are", async () => {
    const { ctx, rt, moveToDelayed } = setup(new Error("column does not exist"));
    await expect(runTraining({ jobId: "job1" }, ctx, rt)).rejects.toThrow("column does not exist");
    expect(moveToDelayed).not.toHaveBeenCalled();
  });
});
