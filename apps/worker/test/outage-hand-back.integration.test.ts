import { DelayedError } from "bullmq";
import { describe, expect, it, vi } from "vitest";
import type { Db } from "@wyolo/db";
import { dbWorld } from "./fixtures/db-world.ts";
import type { JobContext } from "../src/catalog.ts";
import { runTraining, type TrainingRuntime } from "../src/training/run-training.ts";

// Against the file's own Postgres: a run that Postgres leaves right after its pickup goes back to
// the queue with a mark, and the next pickup takes the row over without counting a worker loss.
const world = dbWorld();
const { db, lifecycle, log } = world;

const config = { model: "yolov8n.yaml", train: { data: "shapes/data.yaml", epochs: 2, imgsz: 64, batch: 4 } };

/** The database, but "can't reach" for the first query after the pickup (the epochs already recorded). */
const goneAfterPickup = new Proxy(db, {
  get(target, key, receiver) {
    if (key !== "jobEpoch") return Reflect.get(target, key, receiver);
    return {
      aggregate: () => Promise.reject(Object.assign(new Error("Can't reach database server at 127.0.0.1:5432"), { code: "P1001" })),
    };
  },
}) as Db;

function attempt(jobId: string, progress: unknown) {
  const job = {
    id: jobId,
    progress,
    moveToDelayed: vi.fn(async () => {}),
    updateProgress: vi.fn(async (p: unknown) => void (job.progress = p)),
  };
  const ctx = { job, token: "t", signal: new AbortController().signal, log } as unknown as JobContext;
  const rt = {
    env: { WORKER_NAME: "w2", WORKER_MAX_LOSSES: 5, GPU_WAIT_RETRY_MS: 1_000 },
    db: goneAfterPickup,
    lifecycle,
    active: new Map(),
    isDraining: () => false,
    cannotTrain: () => undefined,
    placeJob: async () => ({ device: "cpu", gpuIndexes: [] }),
    releaseJob: () => {},
  } as unknown as TrainingRuntime;
  return { run: runTraining({ jobId }, ctx, rt), job };
}

const onWorker1 = () =>
  db.trainingJob
    .create({
      data: {
        projectId: world.projectId,
        createdById: world.userId,
        name: "j",
        config,
        status: "RUNNING",
        attempt: 1,
        workerName: "w1",
        heartbeatAt: new Date(),
      },
      select: { id: true },
    })
    .then((j) => j.id);
const kinds = async (jobId: string) => (await db.jobEvent.findMany({ where: { jobId }, orderBy: { createdAt: "asc" } })).map((e) => e.kind);

describe("a training handed back while Postgres is unavailable", () => {
  it("is marked; the next pickup takes the row over without a worker loss, clears the mark, and hands back again (marked) when Postgres is still away", async () => {
    const id = await onWorker1();
    const { run, job } = attempt(id, { handedBack: "postgres-unavailable" });
    await expect(run).rejects.toBeInstanceOf(DelayedError);
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id } });
    expect([row.status, row.attempt, row.workerName]).toEqual(["STARTING", 2, "w2"]);
    expect(await kinds(id)).toEqual(["resumed"]);
    expect(job.updateProgress.mock.calls.map((c) => c[0])).toEqual([0, { handedBack: "postgres-unavailable" }]);
    expect(job.moveToDelayed).toHaveBeenCalledOnce();
  });

  it("without the mark, a row left on another worker is a worker loss, as before", async () => {
    const id = await onWorker1();
    const { run } = attempt(id, 0);
    await expect(run).rejects.toBeInstanceOf(DelayedError);
    expect(await kinds(id)).toEqual(["stalled", "resumed"]);
  });
});
