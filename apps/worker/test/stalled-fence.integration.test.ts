import { describe, expect, it } from "vitest";
import type { Db } from "@wyolo/db";
import { dbWorld } from "./fixtures/db-world.ts";
import { stalledHandler } from "../src/lost-workers.ts";

// Against the file's own Postgres: a stalled handler re-queues only the run whose loss it judged.
const world = dbWorld();
const { db, lifecycle, log } = world;

const longAgo = () => new Date(Date.now() - 60_000);
const runningJob = (attempt: number) =>
  db.trainingJob
    .create({
      data: {
        projectId: world.projectId,
        createdById: world.userId,
        name: "j",
        config: {},
        status: "RUNNING",
        attempt,
        workerName: "w1",
        heartbeatAt: longAgo(),
      },
      select: { id: true },
    })
    .then((j) => j.id);

/** The database as the handler sees it, with `afterRead` run right after it reads the row (a pickup racing it). */
function racing(afterRead: () => Promise<unknown>): Db {
  return new Proxy(db, {
    get(target, key, receiver) {
      if (key !== "trainingJob") return Reflect.get(target, key, receiver);
      return new Proxy(target.trainingJob, {
        get(jobs, k, r) {
          if (k !== "findUnique") return Reflect.get(jobs, k, r);
          return async (args: Parameters<typeof jobs.findUnique>[0]) => {
            const row = await jobs.findUnique(args);
            await afterRead();
            return row;
          };
        },
      });
    },
  });
}

describe("the stalled handler", () => {
  it("re-queues the lost run (its attempt unchanged, its heartbeat old), with a timeline entry", async () => {
    const id = await runningJob(1);
    await stalledHandler({ lifecycle, db, maxLosses: 5, log })(id);
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id } });
    expect([row.status, row.attempt]).toEqual(["QUEUED", 1]);
    expect(await db.jobEvent.count({ where: { jobId: id, kind: "stalled" } })).toBe(1);
  });

  it("late, leaves the next worker's run alone even when that run's heartbeat is old too: the attempt moved on", async () => {
    const id = await runningJob(1);
    // Another worker picks the job up (attempt 2) after the handler judged the loss of attempt 1.
    const pickup = () =>
      db.trainingJob.update({ where: { id }, data: { status: "STARTING", attempt: 2, workerName: "w2", heartbeatAt: longAgo() } });
    await stalledHandler({ lifecycle, db: racing(pickup), maxLosses: 5, log })(id);
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id } });
    expect([row.status, row.attempt, row.workerName]).toEqual(["STARTING", 2, "w2"]);
    expect(await db.jobEvent.count({ where: { jobId: id, kind: { in: ["stalled", "failed"] } } })).toBe(0);
  });

  it("past WORKER_MAX_LOSSES, late, does not fail the next worker's run either", async () => {
    const id = await runningJob(1);
    const pickup = () =>
      db.trainingJob.update({ where: { id }, data: { status: "RUNNING", attempt: 2, workerName: "w2", heartbeatAt: longAgo() } });
    await stalledHandler({ lifecycle, db: racing(pickup), maxLosses: 0, log })(id);
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id } });
    expect([row.status, row.attempt]).toEqual(["RUNNING", 2]);
  });
});

describe("a worker's transition fenced by its attempt", () => {
  it("applies while the row has the worker's attempt, and not once another pickup has incremented it", async () => {
    const id = await runningJob(1);
    const end = (attempt: number) =>
      lifecycle.transition({
        kind: "training",
        id,
        to: "SUCCEEDED",
        cause: "worker",
        where: { attempt },
        data: { finishedAt: new Date() },
      });
    await db.trainingJob.update({ where: { id }, data: { attempt: { increment: 1 } } });
    expect(await end(1)).toMatchObject({ applied: false, refused: false, status: "RUNNING" });
    expect(await end(2)).toMatchObject({ applied: true });
  });
});
