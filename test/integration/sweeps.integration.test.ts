import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVE_STATUSES, type SweepSettings, type TrainingConfig } from "@wyolo/contracts";
import { db } from "@/server/db";
import { sweepQueue, trainingQueue } from "@/server/queue";
import * as sweepsRoute from "@/app/api/v1/projects/[projectId]/sweeps/route";
import * as cancelRoute from "@/app/api/v1/sweeps/[sweepId]/cancel/route";
import * as trialsRoute from "@/app/api/v1/sweeps/[sweepId]/trials/route";
import { OptunaBridge, optunaStorageUrl, studySpecFor } from "../../apps/worker/src/sweeps/optuna-bridge";
import { MlflowDouble } from "../mlflow/mlflow-double";
import { ROOT } from "./db";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// Sweeps end to end: sweeps created through the API, two real worker processes running the fake
// trainer on the stand-in objective (a learning curve of the sampled arguments), the real Optuna
// bridge on Debian's Optuna over this file's Postgres, and the MLflow double. The workers share
// one data directory, as workers on one host do, so a trial picked up again finds its checkpoint.
const python = process.env.WYOLO_TEST_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const OPTUNA_COMMAND = `${python} apps/worker/sweeper/optuna_bridge.py`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-sweeps-"));
const mlflow = new MlflowDouble();
const bridge = new OptunaBridge({ command: OPTUNA_COMMAND, storageUrl: optunaStorageUrl(process.env.DATABASE_URL!), cwd: ROOT });
const workers: WorkerHandle[] = [];
const byName = new Map<string, WorkerHandle>();
let mlflowUrl: string;
let cookie: string;
let projectId: string;
let seq = 0;

function start() {
  const name = `sweeper-${++seq}`;
  const w = startWorker(name, {
    WORKER_DATA_DIR: dataDir,
    WORKER_CONCURRENCY: "2",
    OPTUNA_COMMAND,
    MLFLOW_TRACKING_URI: mlflowUrl,
    MLFLOW_MAX_BACKOFF_MS: "500",
  });
  workers.push(w);
  byName.set(name, w);
  return w;
}
const alive = (w: WorkerHandle) => w.child.exitCode === null && w.child.signalCode === null;

/** The stand-in objective reads lr0 and momentum; the rest of the space is Ultralytics' own when not given. */
const SPACE = {
  lr0: { type: "float", low: 1e-5, high: 1e-1, log: true },
  momentum: { type: "float", low: 0.6, high: 0.98 },
};
function sweepConfig(sweeper: Record<string, unknown>, epochs: number, delayMs: number) {
  return {
    model: "yolo11n.yaml",
    train: { data: "shapes/data.yaml", epochs, imgsz: 64 },
    metadata: { standin: true, fake: { delayMs } },
    sweeper: { tune: true, search_space: SPACE, ...sweeper },
  };
}

async function createSweep(name: string, config: unknown): Promise<string> {
  const res = await call(sweepsRoute.POST, { cookie, params: { projectId }, body: { name, config } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.sweep.id as string;
}

const sweepRow = (id: string) => db.sweep.findUniqueOrThrow({ where: { id } });
const trialJobs = (sweepId: string) =>
  db.trainingJob.findMany({
    where: { sweepId },
    orderBy: { trialNumber: "asc" },
    include: { epochs: { select: { epoch: true }, orderBy: { epoch: "asc" } }, events: { orderBy: { createdAt: "asc" } } },
  });

/** Waits for the sweep to reach `status`; on a timeout, says where it and its trials are, and what the workers said. */
async function sweepEnds(id: string, status: string, timeoutMs = 60_000) {
  try {
    return await waitFor(async () => (await sweepRow(id)).status === status && sweepRow(id), timeoutMs, `sweep ${id} ${status}`);
  } catch (err) {
    const s = await sweepRow(id);
    const jobs = await trialJobs(id);
    const said = workers.filter(alive).map((w) => w.output().split("\n").slice(-12).join("\n"));
    throw new Error(
      `${(err as Error).message}: it is ${s.status} (${s.failureReason ?? ""})\n${jobs
        .map((j) => `#${j.trialNumber} ${j.status} ${j.trialState} epoch ${j.currentEpoch}`)
        .join("\n")}\n${said.join("\n---\n")}`,
      { cause: err },
    );
  }
}

async function optunaTrials(sweepId: string) {
  const s = await sweepRow(sweepId);
  const study = studySpecFor(sweepId, s.settings as unknown as SweepSettings, (s.config as unknown as TrainingConfig).train.epochs);
  return bridge.trials(study);
}

const parentRun = (sweepId: string) => [...mlflow.runs.values()].find((r) => r.tags.get("wyolo.sweep_run") === sweepId);

beforeAll(async () => {
  mlflowUrl = await mlflow.start();
  const member = await createUser({ name: "Sam" });
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Shapes", slug: "shapes" } })).id;
  cookie = await sessionCookie(member);
  start();
  start();
  await Promise.all(workers.map((w) => w.ready));
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await bridge.close();
  await mlflow.stop();
  await trainingQueue.obliterate({ force: true });
  await sweepQueue.obliterate({ force: true });
});

describe("sweeps with real Optuna and real workers", { timeout: 90_000 }, () => {
  it("prunes: pruned trials stop early and are PRUNED in Optuna; the sweep completes with its best, nested in MLflow", async () => {
    const id = await createSweep(
      "pruning",
      // 200 ms epochs: a prune verdict (worker → Optuna bridge → stop file) lands within an epoch even on a busy machine.
      sweepConfig({ n_trials: 6, parallel: 2, pruner: "successive_halving", grace_period: 1, sampler: "TPESampler", seed: 3 }, 6, 200),
    );
    const sweep = await sweepEnds(id, "COMPLETED");
    const jobs = await trialJobs(id);
    expect(jobs.map((j) => j.trialNumber)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(jobs.every((j) => j.status === "SUCCEEDED")).toBe(true);
    expect(jobs[0]!.name).toBe("pruning #0");

    const pruned = jobs.filter((j) => j.prunedAtEpoch !== null);
    expect(pruned.length, "the pruner stopped at least one trial").toBeGreaterThan(0);
    for (const j of pruned) {
      expect(j.epochs.length).toBeLessThan(6);
      expect(j.epochs.length).toBe(j.prunedAtEpoch);
      expect(j.trialState).toBe("PRUNED");
    }
    for (const j of jobs.filter((j) => j.prunedAtEpoch === null)) {
      expect(j.epochs.length).toBe(6);
      expect(j.trialState).toBe("COMPLETE");
    }

    const trials = await optunaTrials(id);
    expect(trials).toHaveLength(6);
    for (const j of jobs) {
      const t = trials.find((t) => t.number === j.trialNumber)!;
      expect(t.state).toBe(j.trialState);
      if (t.state === "COMPLETE") expect(t.value).toBeCloseTo(j.trialValue!, 9);
    }
    const complete = jobs.filter((j) => j.trialState === "COMPLETE");
    const best = complete.reduce((b, j) => (j.trialValue! > b.trialValue! ? j : b));
    expect(sweep.bestValue).toBe(best.trialValue);
    expect(sweep.bestTrialNumber).toBe(best.trialNumber);
    expect(sweep.bestJobId).toBe(best.id);
    if (complete.length >= 2) expect(Object.keys((sweep.importances ?? {}) as object).sort()).toEqual(["lr0", "momentum"]);

    // MLflow: the sweep's parent run, each trial's run nested under it, best_value per completed trial.
    await waitFor(async () => parentRun(id)?.info.status === "FINISHED", 10_000, "the parent run to end");
    const parent = parentRun(id)!;
    expect(sweep.mlflowRunId).toBe(parent.info.run_uuid);
    expect(parent.params.get("space.lr0")).toBe("float [0.00001, 0.1] log");
    expect(parent.params.get("sweep.pruner")).toBe("successive_halving");
    await waitFor(
      async () =>
        jobs.every((j) => [...mlflow.runs.values()].some((r) => r.tags.get("wyolo.job_id") === j.id && r.tags.get("mlflow.parentRunId"))),
      10_000,
      "every trial run nested",
    );
    for (const j of jobs) {
      const run = [...mlflow.runs.values()].find((r) => r.tags.get("wyolo.job_id") === j.id)!;
      expect(run.tags.get("mlflow.parentRunId")).toBe(parent.info.run_uuid);
      expect(run.tags.get("wyolo.trial")).toBe(String(j.trialNumber));
      expect(run.tags.get("wyolo.sweep_id")).toBe(id);
    }
    // A point sent again (another process) has the same timestamp, step and value: MLflow keeps one.
    const points = new Map(parent.metrics.filter((m) => m.key === "best_value").map((m) => [m.step, m.value]));
    expect([...points.keys()].sort((a, b) => a - b)).toEqual(complete.map((j) => j.trialNumber).sort((a, b) => a! - b!));
    expect(points.get(Math.max(...complete.map((j) => j.trialNumber!)))).toBe(best.trialValue);
  });

  it("runs parallel: 3 over two worker processes: never more than 3 active, no number twice, every Optuna trial finished", async () => {
    const id = await createSweep("parallel", sweepConfig({ n_trials: 6, parallel: 3, pruner: "none", seed: 5 }, 4, 150));
    let most = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        most = Math.max(most, await db.trainingJob.count({ where: { sweepId: id, status: { in: [...ACTIVE_STATUSES] } } }));
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    await sweepEnds(id, "COMPLETED").finally(() => (sampling = false));
    await sampler;
    expect(most).toBe(3);
    const jobs = await trialJobs(id);
    expect(jobs.map((j) => j.trialNumber)).toEqual([0, 1, 2, 3, 4, 5]);
    // Each worker runs two at most: three at once took both.
    expect(new Set(jobs.map((j) => j.workerName)).size).toBe(2);
    const trials = await optunaTrials(id);
    expect(trials.map((t) => t.number)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(trials.filter((t) => t.state === "RUNNING")).toEqual([]);
    expect(trials.every((t) => t.state === "COMPLETE")).toBe(true);
  });

  it("cancel: running trials stop, the sweep ends CANCELLED, no trial is left RUNNING in Optuna", async () => {
    const id = await createSweep("cancelled", sweepConfig({ n_trials: 6, parallel: 2, pruner: "none", seed: 9 }, 40, 200));
    await waitFor(
      async () => (await db.trainingJob.count({ where: { sweepId: id, status: "RUNNING", currentEpoch: { gte: 1 } } })) === 2,
      30_000,
      "two trials running",
    );
    const res = await call(cancelRoute.POST, { cookie, params: { sweepId: id } });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const sweep = await sweepEnds(id, "CANCELLED", 30_000);
    expect(sweep.finishedAt).not.toBeNull();
    const jobs = await trialJobs(id);
    expect(jobs).toHaveLength(2);
    for (const j of jobs) {
      expect(j.status).toBe("CANCELLED");
      expect(j.trialState).toBe("FAIL");
      expect(j.epochs.length).toBeLessThan(40);
    }
    const trials = await optunaTrials(id);
    expect(trials.map((t) => [t.number, t.state])).toEqual([
      [0, "FAIL"],
      [1, "FAIL"],
    ]);
    await waitFor(async () => parentRun(id)?.info.status === "KILLED", 10_000, "the parent run KILLED");
  });

  it("adds trials to a completed sweep: the same study goes on with new numbers", async () => {
    const id = await createSweep("grown", sweepConfig({ n_trials: 2, parallel: 2, pruner: "none", seed: 11 }, 3, 40));
    await sweepEnds(id, "COMPLETED");
    const res = await call(trialsRoute.POST, { cookie, params: { sweepId: id }, body: { count: 2 } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const sweep = await sweepEnds(id, "COMPLETED");
    expect(sweep.nTrials).toBe(4);
    const jobs = await trialJobs(id);
    expect(jobs.map((j) => [j.trialNumber, j.status, j.trialState])).toEqual([
      [0, "SUCCEEDED", "COMPLETE"],
      [1, "SUCCEEDED", "COMPLETE"],
      [2, "SUCCEEDED", "COMPLETE"],
      [3, "SUCCEEDED", "COMPLETE"],
    ]);
    const trials = await optunaTrials(id);
    expect(trials.map((t) => [t.number, t.state])).toEqual([
      [0, "COMPLETE"],
      [1, "COMPLETE"],
      [2, "COMPLETE"],
      [3, "COMPLETE"],
    ]);
    await waitFor(async () => parentRun(id)?.info.status === "FINISHED", 10_000, "the parent run to end again");
  });

  it("runs the old service's config.yaml with tune: true as a sweep", async () => {
    const yaml = [
      "model: yolo11n.yaml",
      "train:",
      "  data: shapes/data.yaml",
      "  epochs: 3",
      "  imgsz: 64",
      "metadata:",
      "  standin: true",
      "  fake:",
      "    delayMs: 30",
      "mlflow:",
      "  tracking_uri: http://old-mlflow:5000",
      "sweeper:",
      "  study_name: people-counter-hpo",
      "  n_trials: 2",
      "  tune: true",
      "  grace_period: 2",
      "  algorithm: optuna",
      "  direction: maximize",
      "  sampler: TPESampler",
      "",
    ].join("\n");
    const id = await createSweep("old config", yaml);
    const sweep = await sweepEnds(id, "COMPLETED");
    const settings = sweep.settings as unknown as SweepSettings;
    expect(settings).toMatchObject({ study_name: "people-counter-hpo", n_trials: 2, grace_period: 2, sampler: "TPESampler" });
    const jobs = await trialJobs(id);
    expect(jobs.map((j) => j.trialNumber)).toEqual([0, 1]);
    // Ultralytics' own space for detection: every trial's config carries its sampled arguments.
    for (const j of jobs) {
      const params = j.trialParams as Record<string, number>;
      expect(Object.keys(params)).toEqual(expect.arrayContaining(["lr0", "momentum", "mosaic", "box"]));
      expect((j.config as { train: Record<string, unknown> }).train).toMatchObject(params);
    }
    expect((await optunaTrials(id)).every((t) => t.state !== "RUNNING")).toBe(true);
    expect(sweep.bestValue).not.toBeNull();
  });

  it("a worker SIGKILLed mid-trial: the trial resumes on the other worker and completes once, same number, told once", async () => {
    const id = await createSweep("killed", sweepConfig({ n_trials: 1, parallel: 1, pruner: "none", seed: 13 }, 12, 300));
    const running = await waitFor(
      async () => db.trainingJob.findFirst({ where: { sweepId: id, trialNumber: 0, status: "RUNNING", currentEpoch: { gte: 3 } } }),
      30_000,
      "trial 0 at epoch 3",
    );
    const victim = byName.get(running.workerName!)!;
    expect(victim && alive(victim), `the worker of trial 0 (${running.workerName})`).toBe(true);
    victim.child.kill("SIGKILL");
    await victim.exited;
    const replacement = start(); // the next case still has two workers
    await replacement.ready;

    await sweepEnds(id, "COMPLETED", 60_000);
    const jobs = await trialJobs(id);
    expect(jobs.map((j) => j.trialNumber)).toEqual([0]);
    const resumed = jobs[0]!;
    expect(resumed.id).toBe(running.id);
    expect(resumed.status).toBe("SUCCEEDED");
    expect(resumed.workerName).not.toBe(running.workerName);
    expect(resumed.epochs.map((e) => e.epoch)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    expect(resumed.events.some((e) => e.kind === "resumed")).toBe(true);
    const trials = await optunaTrials(id);
    expect(trials.map((t) => [t.number, t.state])).toEqual([[0, "COMPLETE"]]);
    expect(trials[0]!.value).toBeCloseTo(resumed.trialValue!, 9);
    expect(Object.keys(trials[0]!.intermediate).map(Number)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
  });
});
