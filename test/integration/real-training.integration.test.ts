import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { ROOT } from "./db";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { realTrainer, startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// A real Ultralytics training through the worker. It runs where the trainer's Python can
// import ultralytics and torch, and skips with the trainer check's own reason where it cannot.
const { python, report, ready } = realTrainer();
const trainerCommand = `${python} apps/worker/trainer/train.py`;
if (!ready)
  console.warn(
    `SKIPPED real Ultralytics training: ${report.problem ?? "the trainer check failed"} (set WYOLO_TEST_PYTHON / PYTHONPATH to a Python with ultralytics)`,
  );

describe.skipIf(!ready)(`real training with Ultralytics ${report.ultralytics ?? ""}`, () => {
  let worker: WorkerHandle;
  const startReal = (name: string) =>
    startWorker(name, {
      TRAINER_COMMAND: trainerCommand,
      WORKER_DATA_DIR: path.join(dataDir, "runs"),
      DATASETS_DIR: dataDir,
      LOCK_DURATION_MS: "4000",
      STALLED_INTERVAL_MS: "2000",
    });
  const submit = async (name: string, epochs: number) => {
    const res = await call(jobsRoute.POST, {
      cookie,
      params: { projectId },
      body: {
        name,
        config: { model: "yolov8n.yaml", train: { data: "shapes/data.yaml", epochs, imgsz: 96, batch: 8, workers: 0, plots: false } },
      },
    });
    expect(res.status).toBe(201);
    return res.body.job.id as string;
  };
  const job = (id: string) => db.trainingJob.findUniqueOrThrow({ where: { id } });
  const ended = (id: string) =>
    waitFor(
      async () => {
        const j = await job(id);
        return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
      },
      150_000,
      "the job to end",
    );
  let cookie: string;
  let projectId: string;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-real-"));
  const dataset = path.join(dataDir, "shapes");

  beforeAll(async () => {
    execFileSync(python, ["apps/worker/trainer/make_dataset.py", "detect", dataset, "--train", "32", "--val", "8", "--size", "96"], {
      cwd: ROOT,
    });
    const member = await createUser();
    const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
    projectId = (await db.project.create({ data: { teamId: team.id, name: "Real", slug: "real" } })).id;
    cookie = await sessionCookie(member);
    worker = startReal("real");
    await worker.ready;
  }, 180_000);

  const extra: WorkerHandle[] = [];
  afterAll(async () => {
    await Promise.all(extra.map((w) => w.stop()));
    await worker?.stop();
    await trainingQueue.obliterate({ force: true });
  });

  it("trains a 2-epoch YOLO detection run on CPU and ends with best.pt on disk", async () => {
    const res = await call(jobsRoute.POST, {
      cookie,
      params: { projectId },
      body: {
        name: "real cpu",
        config: { model: "yolov8n.yaml", train: { data: "shapes/data.yaml", epochs: 2, imgsz: 96, batch: 8, workers: 0, plots: false } },
      },
    });
    expect(res.status).toBe(201);
    const id = res.body.job.id as string;
    const done = await waitFor(
      async () => {
        const j = await db.trainingJob.findUniqueOrThrow({ where: { id } });
        return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
      },
      150_000,
      "the real training to end",
    );
    expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
    expect(done.currentEpoch).toBe(2);
    const epochs = await db.jobEpoch.findMany({ where: { jobId: id }, orderBy: { epoch: "asc" } });
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2]);
    expect(Object.keys(epochs[1]!.metrics as object)).toContain("metrics/mAP50-95(B)");
    expect(Object.keys(epochs[1]!.losses as object)).toContain("train/box_loss");
    expect(existsSync(path.join(dataDir, "runs", "jobs", id, "train", "weights", "best.pt"))).toBe(true);
    const events = await db.jobEvent.findMany({ where: { jobId: id }, orderBy: { createdAt: "asc" } });
    expect(events.find((e) => e.kind === "running")!.message).toMatch(/batch 8 on cpu/);
  }, 180_000);

  it("cancels a real training at an epoch boundary", async () => {
    const id = await submit("real cancel", 30);
    await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 1, 60_000, "epoch 1");
    await call((await import("@/app/api/v1/jobs/[jobId]/cancel/route")).POST, { cookie, params: { jobId: id } });
    const done = await ended(id);
    expect(done.status).toBe("CANCELLED");
    expect(done.currentEpoch!).toBeLessThan(30);
    expect(existsSync(path.join(dataDir, "runs", "jobs", id, "train", "weights", "last.pt"))).toBe(true);
  }, 180_000);

  it("survives a SIGKILLed worker: another worker resumes the run from its own last.pt", async () => {
    const id = await submit("real resume", 5);
    await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 2, 90_000, "epoch 2");
    worker.child.kill("SIGKILL");
    await worker.exited;
    const rescuer = startReal("real-rescuer");
    extra.push(rescuer);
    await rescuer.ready;
    const done = await ended(id);
    expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
    expect(done.attempt).toBe(2);
    expect(await db.jobEpoch.count({ where: { jobId: id } })).toBe(5);
    const running = await db.jobEvent.findMany({ where: { jobId: id, kind: "running" }, orderBy: { createdAt: "asc" } });
    expect(running.at(-1)!.message).toMatch(/Training resumed: epochs [3-5]–5/);
    expect(existsSync(path.join(dataDir, "runs", "jobs", id, "train", "weights", "best.pt"))).toBe(true);
  }, 240_000);

  // Issue 15, item 6: Ultralytics' final evaluation strips last.pt after a stop too; the shutdown
  // stop keeps a resumable copy, so the job ends SUCCEEDED only after every epoch was trained.
  it("survives a worker shutdown (SIGTERM) mid-run: the next worker trains the remaining epochs, every epoch with its time", async () => {
    await Promise.all([worker, ...extra].map((w) => w.stop())); // only the worker under test may take the job
    const draining = startReal("real-draining");
    extra.push(draining);
    await draining.ready;
    const epochs = 4;
    const id = await submit("real shutdown", epochs);
    await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 1, 90_000, "epoch 1");
    await draining.stop();
    expect(await draining.exited).toBe(0);
    const requeued = await job(id);
    expect(requeued.status, requeued.failureReason ?? "").toBe("QUEUED");
    const weights = path.join(dataDir, "runs", "jobs", id, "train", "weights");
    expect(existsSync(path.join(weights, "last.resumable.pt"))).toBe(true);
    const stoppedAfter = requeued.currentEpoch!;
    expect(stoppedAfter).toBeLessThan(epochs);

    const successor = startReal("real-successor");
    extra.push(successor);
    await successor.ready;
    const done = await ended(id);
    expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
    expect(done.currentEpoch).toBe(epochs);
    const rows = await db.jobEpoch.findMany({ where: { jobId: id }, orderBy: { epoch: "asc" } });
    expect(rows.map((r) => r.epoch)).toEqual(Array.from({ length: epochs }, (_, i) => i + 1));
    for (const r of rows) expect(r.epochTime, `epoch ${r.epoch}'s time`).toBeGreaterThan(0);
    const running = await db.jobEvent.findMany({ where: { jobId: id, kind: "running" }, orderBy: { createdAt: "asc" } });
    expect(running.at(-1)!.message).toContain(`Training resumed: epochs ${stoppedAfter + 1}–${epochs}`);
    expect(existsSync(path.join(weights, "last.resumable.pt"))).toBe(false);
  }, 300_000);
});
