import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { ROOT } from "./db";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// A real Ultralytics training through the worker. It runs where the trainer's Python can
// import ultralytics and torch (WYOLO_TEST_PYTHON, default /usr/bin/python3, with PYTHONPATH as
// set), and skips with the trainer check's own reason where it cannot (CI here: no PyPI).
const python = process.env.WYOLO_TEST_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const trainerCommand = `${python} apps/worker/trainer/train.py`;
const check = spawnSync(python, ["apps/worker/trainer/train.py", "--check"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
const report = (() => {
  try {
    return JSON.parse(check.stdout.trim().split("\n").pop() ?? "{}") as { ok?: boolean; problem?: string; ultralytics?: string };
  } catch {
    return { ok: false, problem: check.error?.message ?? check.stderr.trim() };
  }
})();
const ready = check.status === 0 && report.ok === true;
if (!ready) console.warn(`SKIPPED real Ultralytics training: ${report.problem ?? "the trainer check failed"} (set WYOLO_TEST_PYTHON / PYTHONPATH to a Python with ultralytics)`);

describe.skipIf(!ready)(`real training with Ultralytics ${report.ultralytics ?? ""}`, () => {
  let worker: WorkerHandle;
  let cookie: string;
  let projectId: string;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-real-"));
  const dataset = path.join(dataDir, "shapes");

  beforeAll(async () => {
    execFileSync(python, ["apps/worker/trainer/make_dataset.py", "detect", dataset, "--train", "32", "--val", "8", "--size", "96"], { cwd: ROOT });
    const member = await createUser();
    const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
    projectId = (await db.project.create({ data: { teamId: team.id, name: "Real", slug: "real" } })).id;
    cookie = await sessionCookie(member);
    worker = startWorker("real", { TRAINER_COMMAND: trainerCommand, WORKER_DATA_DIR: path.join(dataDir, "runs"), LOCK_DURATION_MS: "30000" });
    await worker.ready;
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await trainingQueue.obliterate({ force: true });
  });

  it("trains a 2-epoch YOLO detection run on CPU and ends with best.pt on disk", async () => {
    const res = await call(jobsRoute.POST, {
      cookie,
      params: { projectId },
      body: { name: "real cpu", config: { model: "yolov8n.yaml", train: { data: path.join(dataset, "data.yaml"), epochs: 2, imgsz: 96, batch: 8, workers: 0, plots: false } } },
    });
    expect(res.status).toBe(201);
    const id = res.body.job.id as string;
    const done = await waitFor(async () => {
      const j = await db.trainingJob.findUniqueOrThrow({ where: { id } });
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    }, 150_000, "the real training to end");
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
});
