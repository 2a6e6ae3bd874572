import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { sweepQueue, trainingQueue } from "@/server/queue";
import * as sweepsRoute from "@/app/api/v1/projects/[projectId]/sweeps/route";
import { ROOT } from "./db";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { realTrainer, startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// A mini sweep of real Ultralytics trainings (CPU, a tiny set) with real Optuna. It runs where the
// trainer's Python can import ultralytics and torch, and skips with the trainer check's own reason where it cannot.
const { python, report, ready } = realTrainer();
if (!ready)
  console.warn(
    `SKIPPED real Ultralytics sweep: ${report.problem ?? "the trainer check failed"} (set WYOLO_TEST_PYTHON / PYTHONPATH to a Python with ultralytics)`,
  );

describe.skipIf(!ready)(`a real sweep with Ultralytics ${report.ultralytics ?? ""}`, () => {
  let worker: WorkerHandle;
  let cookie: string;
  let projectId: string;
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-real-sweep-"));

  beforeAll(async () => {
    execFileSync(
      python,
      ["apps/worker/trainer/make_dataset.py", "detect", path.join(dataDir, "shapes"), "--train", "32", "--val", "8", "--size", "96"],
      {
        cwd: ROOT,
      },
    );
    const member = await createUser();
    const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
    projectId = (await db.project.create({ data: { teamId: team.id, name: "Real sweep", slug: "real-sweep" } })).id;
    cookie = await sessionCookie(member);
    worker = startWorker("real-sweep", {
      TRAINER_COMMAND: `${python} apps/worker/trainer/train.py`,
      WORKER_DATA_DIR: path.join(dataDir, "runs"),
      DATASETS_DIR: dataDir,
    });
    await worker.ready;
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await trainingQueue.obliterate({ force: true });
    await sweepQueue.obliterate({ force: true });
  });

  it("runs 4 trials of a 3-epoch sweep with ASHA and ends COMPLETED with a best trial", async () => {
    const res = await call(sweepsRoute.POST, {
      cookie,
      params: { projectId },
      body: {
        config: {
          model: "yolov8n.yaml",
          train: { data: "shapes/data.yaml", epochs: 3, imgsz: 96, batch: 8, workers: 0, plots: false },
          sweeper: {
            tune: true,
            study_name: "real mini sweep",
            n_trials: 4,
            pruner: "successive_halving",
            grace_period: 1,
            seed: 1,
            search_space: { lr0: { type: "float", low: 0.001, high: 0.05, log: true }, mosaic: { type: "float", low: 0, high: 1 } },
          },
        },
      },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const sweepId = res.body.sweep.id as string;
    const done = await waitFor(
      async () => {
        const s = await db.sweep.findUniqueOrThrow({ where: { id: sweepId } });
        return ["COMPLETED", "FAILED", "CANCELLED"].includes(s.status) && s;
      },
      300_000,
      "the real sweep to end",
    );
    expect(done.status, done.failureReason ?? "").toBe("COMPLETED");
    const trials = await db.trainingJob.findMany({ where: { sweepId }, orderBy: { trialNumber: "asc" } });
    expect(trials.map((t) => t.trialNumber)).toEqual([0, 1, 2, 3]);
    for (const t of trials) {
      expect(t.status, t.failureReason ?? "").toBe("SUCCEEDED");
      expect(["COMPLETE", "PRUNED"]).toContain(t.trialState);
      const epochs = await db.jobEpoch.count({ where: { jobId: t.id } });
      // A pruned trial stopped at an epoch boundary before its budget (its trainer saw the `prune` stop file).
      if (t.trialState === "PRUNED") expect([t.prunedAtEpoch, epochs < 3]).toEqual([epochs, true]);
      else expect(epochs).toBe(3);
      // Each trial trained with its own sampled learning rate.
      expect((t.config as { train: { lr0: number } }).train.lr0).toBe((t.trialParams as { lr0: number }).lr0);
    }
    expect(done.bestTrialNumber).not.toBeNull();
    console.log(`real sweep: ${trials.map((t) => `#${t.trialNumber} ${t.trialState} ${t.trialValue?.toFixed(4)}`).join(", ")}`);
  }, 330_000);
});
