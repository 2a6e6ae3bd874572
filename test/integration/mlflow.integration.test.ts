import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { MlflowDouble } from "../mlflow/mlflow-double";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

const mlflow = new MlflowDouble();
let worker: WorkerHandle;
let cookie: string;
let projectId: string;
let experimentName: string;
let mlflowUrl: string;

beforeAll(async () => {
  const url = await mlflow.start();
  mlflowUrl = url;
  const member = await createUser({ name: "Ana" });
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  const project = await db.project.create({ data: { teamId: team.id, name: "People", slug: "people-counter" } });
  projectId = project.id;
  experimentName = `${team.slug}/people-counter`;
  cookie = await sessionCookie(member);
  worker = startWorker("tracked", { MLFLOW_TRACKING_URI: url, MLFLOW_DELAYED_AFTER_MS: "300", MLFLOW_MAX_BACKOFF_MS: "400" });
  await worker.ready;
});

afterAll(async () => {
  await worker.stop();
  await mlflow.stop();
  await trainingQueue.obliterate({ force: true });
});

async function submit(name: string, epochs: number, delayMs: number) {
  const res = await call(jobsRoute.POST, {
    cookie,
    params: { projectId },
    body: {
      name,
      config: { model: "yolo11n.yaml", train: { data: "shapes/data.yaml", epochs, imgsz: 320 }, metadata: { fake: { delayMs } } },
    },
  });
  expect(res.status).toBe(201);
  return res.body.job.id as string;
}
const job = (id: string) => db.trainingJob.findUniqueOrThrow({ where: { id } });
const runOf = (id: string) => [...mlflow.runs.values()].find((r) => r.tags.get("wyolo.job_id") === id);
const outboxEmpty = (id: string) =>
  waitFor(async () => (await db.trackingCall.count({ where: { jobId: id } })) === 0, 20_000, "the MLflow outbox to drain");

describe("MLflow tracking", () => {
  it("logs a run per job: tags, params, every epoch's metrics (step = epoch, MLflow-safe names) and the end status", async () => {
    const id = await submit("tracked run", 3, 30);
    await waitFor(async () => (await job(id)).status === "SUCCEEDED", 20_000, "the job");
    await outboxEmpty(id);
    await waitFor(async () => !(await job(id)).trackingDelayed, 5_000, "tracking delayed to stay clear");
    const row = await job(id);
    const run = runOf(id)!;
    expect(row.mlflowRunId).toBe(run.info.run_uuid);
    expect(row.mlflowExperimentId).toBe(mlflow.experimentByName(experimentName)!.experiment_id);
    expect(row.trackingDelayed).toBe(false);
    expect(run.info.run_name).toBe("tracked run");
    expect(Object.fromEntries(run.tags)).toMatchObject({
      "wyolo.job_id": id,
      "wyolo.project": "people-counter",
      "mlflow.user": "Ana",
      "wyolo.model": "yolo11n.yaml",
      "wyolo.worker": "tracked",
      "wyolo.gpu": "cpu",
    });
    expect(run.params.get("epochs")).toBe("3");
    expect(run.params.get("imgsz")).toBe("320");
    expect(run.params.get("model")).toBe("yolo11n.yaml");
    const map = run.metrics.filter((m) => m.key === "metrics/mAP50-95B");
    expect(map.map((m) => m.step)).toEqual([1, 2, 3]);
    expect(run.metrics.some((m) => m.key.includes("("))).toBe(false);
    expect(run.info.status).toBe("FINISHED");
  });

  it("keeps training through an MLflow outage, shows tracking delayed, and catches up without duplicates", async () => {
    mlflow.down = true;
    const started = Date.now();
    const id = await submit("through an outage", 4, 200);
    await waitFor(async () => (await job(id)).trackingDelayed, 10_000, "tracking delayed");
    await waitFor(async () => (await job(id)).status === "SUCCEEDED", 20_000, "the job");
    // The outage did not slow it: 4 epochs of 200 ms plus start-up.
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(runOf(id)).toBeUndefined();
    mlflow.down = false;
    await outboxEmpty(id);
    const run = runOf(id)!;
    expect(run.info.status).toBe("FINISHED");
    const steps = run.metrics.filter((m) => m.key === "train/box_loss").map((m) => m.step);
    expect(steps).toEqual([1, 2, 3, 4]);
    // Cleared by the tracker right after its last call went through.
    await waitFor(async () => !(await job(id)).trackingDelayed, 5_000, "tracking delayed to clear");
  });

  it("marks a failed job's run FAILED and a cancelled one's KILLED", async () => {
    const failedId = (
      await call(jobsRoute.POST, {
        cookie,
        params: { projectId },
        body: { config: { model: "yolo11n.yaml", train: { data: "x/data.yaml", epochs: 3 }, metadata: { fake: { failAtEpoch: 2 } } } },
      })
    ).body.job.id as string;
    await waitFor(async () => (await job(failedId)).status === "FAILED", 20_000, "the failure");
    await outboxEmpty(failedId);
    expect(runOf(failedId)!.info.status).toBe("FAILED");

    const cancelId = await submit("cancelled run", 50, 100);
    await waitFor(async () => ((await job(cancelId)).currentEpoch ?? 0) >= 1, 20_000, "epoch 1");
    await call((await import("@/app/api/v1/jobs/[jobId]/cancel/route")).POST, { cookie, params: { jobId: cancelId } });
    await waitFor(async () => (await job(cancelId)).status === "CANCELLED", 20_000, "the cancel");
    await outboxEmpty(cancelId);
    expect(runOf(cancelId)!.info.status).toBe("KILLED");
  });

  it("gives the calls of one job distinct places in the outbox when two workers queue for it at once", async () => {
    const { Tracker } = await import("../../apps/worker/src/mlflow/tracker.ts");
    const { MlflowClient } = await import("../../apps/worker/src/mlflow/client.ts");
    const { LivePublisher } = await import("../../apps/worker/src/realtime.ts");
    const { createLogger } = await import("../../apps/worker/src/logger.ts");
    const { Redis } = await import("ioredis");
    const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    const log = createLogger("silent", "outbox-test");
    const make = (name: string) =>
      new Tracker(db, new MlflowClient(mlflowUrl), new LivePublisher(redis, log), name, log, {
        intervalMs: 60_000,
        maxBackoffMs: 60_000,
        delayedAfterMs: 60_000,
      });
    const [a, b] = [make("outbox-a"), make("outbox-b")];
    try {
      const id = await submit("shared outbox", 1, 10);
      await waitFor(async () => (await job(id)).status === "SUCCEEDED", 20_000, "the job");
      await outboxEmpty(id);
      // Two more workers' trackers on the same outbox; MLflow is away, so every call stays queued.
      mlflow.down = true;
      const call = (i: number) => ({ kind: "metrics" as const, metrics: [{ key: "extra", value: i, timestamp: 1, step: i }] });
      // Both read the same end of the job's outbox, then write: one of them must move along.
      await Promise.all([a.enqueue(id, [call(0)]), b.enqueue(id, [call(1)])]);
      // And again, with each one's cached end now stale, several batches at once.
      await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).enqueue(id, [call(10 + i), call(20 + i)])));
      const rows = await db.trackingCall.findMany({
        where: { jobId: id, workerName: { in: ["outbox-a", "outbox-b"] } },
        orderBy: { seq: "asc" },
      });
      expect(rows).toHaveLength(14);
      expect(new Set(rows.map((r) => r.seq)).size).toBe(14);
    } finally {
      mlflow.down = false;
      await Promise.all([a.stop(0), b.stop(0)]);
      redis.disconnect();
    }
  });

  it("continues the same run when another worker resumes the job, and names that worker in the run's tags", async () => {
    const id = await submit("moved run", 12, 150);
    await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 2, 20_000, "two epochs on the first worker");
    await worker.stop(); // SIGTERM: the job is handed back at an epoch boundary
    await waitFor(async () => (await job(id)).status === "QUEUED", 20_000, "the hand-back");
    worker = startWorker("tracked-2", { MLFLOW_TRACKING_URI: mlflowUrl, MLFLOW_DELAYED_AFTER_MS: "300", MLFLOW_MAX_BACKOFF_MS: "400" });
    await worker.ready;
    await waitFor(async () => (await job(id)).status === "SUCCEEDED", 30_000, "the job to finish on the second worker");
    await outboxEmpty(id);
    const runs = [...mlflow.runs.values()].filter((r) => r.tags.get("wyolo.job_id") === id);
    expect(runs).toHaveLength(1);
    expect(runs[0]!.tags.get("wyolo.worker")).toBe("tracked-2");
    expect(runs[0]!.info.status).toBe("FINISHED");
    const steps = new Set(runs[0]!.metrics.filter((m) => m.key === "metrics/mAP50-95B").map((m) => m.step));
    expect([...steps].sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });
});
