import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it, vi } from "vitest";
import { parseTrainingConfig, type EpochEvent, type SweepTrialPatch, type TrainingConfig } from "@wyolo/contracts";
import type { Prisma } from "@wyolo/db";
import { dbWorld } from "./fixtures/db-world.ts";
import type { JobContext } from "../src/catalog.ts";
import { workerEnvSchema } from "../src/env.ts";
import type { Logger } from "../src/logger.ts";
import type { LivePublisher } from "../src/realtime.ts";
import { studySpecFor, type OptunaBridge } from "../src/sweeps/optuna-bridge.ts";
import { TrialReporter } from "../src/sweeps/trial-reporter.ts";
import { runTraining, type TrainingRuntime } from "../src/training/run-training.ts";

// Against the file's own Postgres: a sweep trial's epochs go to its study through a stand-in
// bridge (the real one has its own tests), and a pruned trial ends its job as a success.
const world = dbWorld();
const { db, lifecycle } = world;
// The fake trainer's learning curve (an untyped fixture, shared with it).
const { standinCurve }: { standinCurve: (params: Record<string, unknown>, epoch: number) => number } = await import(
  new URL("./fixtures/standin-objective.mjs", import.meta.url).href
);
const json = (v: unknown) => v as Prisma.InputJsonValue;

type Report = Parameters<OptunaBridge["report"]>;
/** A bridge that records what it is told and answers `prune` from `answer`. */
function fakeBridge(answer: (step: number) => { prune: boolean; finished: boolean } | Error = () => ({ prune: false, finished: false })) {
  const calls: Report[] = [];
  const bridge = {
    report: vi.fn(async (...args: Report) => {
      calls.push(args);
      const a = answer(args[2]);
      if (a instanceof Error) throw a;
      return a;
    }),
  };
  return { bridge, calls };
}

function fakeLive() {
  const trials: SweepTrialPatch[] = [];
  const live = {
    sweepTrial: (p: SweepTrialPatch) => trials.push(p),
    jobUpdated: () => {},
    epoch: () => {},
    logLines: () => {},
    event: () => {},
  };
  return { live: live as unknown as LivePublisher, trials };
}

/** A logger whose lines the test can read. */
function recordingLog() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { log: pino({ level: "debug" }, stream) as unknown as Logger, lines };
}

async function newSweep(sweeper: Record<string, unknown>, train: Record<string, unknown> = {}) {
  const parsed = parseTrainingConfig({
    model: "yolo11n.pt",
    train: { data: "shapes/data.yaml", epochs: 8, ...train },
    metadata: { standin: true, fake: { delayMs: 150 } },
    sweeper: { tune: true, search_space: { lr0: { type: "float", low: 1e-4, high: 0.1, log: true } }, ...sweeper },
  });
  if (!parsed.ok || !parsed.sweep) throw new Error(`bad test config: ${JSON.stringify(parsed)}`);
  const sweep = await db.sweep.create({
    data: {
      projectId: world.projectId,
      createdById: world.userId,
      name: "s",
      config: json(parsed.config),
      settings: json(parsed.sweep),
      nTrials: 4,
      parallel: 1,
    },
  });
  return { id: sweep.id, settings: parsed.sweep, config: parsed.config };
}

async function newTrial(sweepId: string, trialNumber: number, config: TrainingConfig) {
  const job = await db.trainingJob.create({
    data: {
      projectId: world.projectId,
      createdById: world.userId,
      name: `trial ${trialNumber}`,
      config: json(config),
      sweepId,
      trialNumber,
      trialParams: { lr0: config.train.lr0 },
    },
    select: { id: true },
  });
  return job.id;
}

const epoch = (n: number, metrics: Record<string, number | null>, fitness?: number | null): EpochEvent => ({
  v: 1,
  type: "epoch",
  epoch: n,
  totalEpochs: 8,
  losses: {},
  metrics,
  lr: {},
  ...(fitness === undefined ? {} : { fitness }),
});

describe("TrialReporter", () => {
  it("reports the sweep's objective at the epoch as its step, publishes it, and answers the pruner", async () => {
    const sweep = await newSweep({ objective: "metrics/mAP50-95(B)", pruner: "median", grace_period: 2, direction: "maximize" });
    const jobId = await newTrial(sweep.id, 0, sweep.config);
    const { bridge, calls } = fakeBridge((step) => ({ prune: step >= 3, finished: false }));
    const { live, trials } = fakeLive();
    const reporter = new TrialReporter({ db, bridge, live, log: world.log });
    const trial = { sweepId: sweep.id, jobId, trialNumber: 0 };

    expect(await reporter.report(trial, epoch(2, { "metrics/mAP50-95(B)": 0.25, "metrics/mAP50(B)": 0.4 }, 0.3))).toBe(false);
    expect(await reporter.report(trial, epoch(3, { "metrics/mAP50-95(B)": 0.31 }, 0.35))).toBe(true);
    const study = studySpecFor(sweep.id, sweep.settings, 8);
    expect(study.max_epochs).toBe(8);
    expect(calls).toEqual([
      [study, 0, 2, 0.25],
      [study, 0, 3, 0.31],
    ]);
    expect(trials).toEqual([
      { sweepId: sweep.id, number: 0, epoch: 2, value: 0.25 },
      { sweepId: sweep.id, number: 0, epoch: 3, value: 0.31 },
    ]);
  });

  it("takes the epoch's fitness for the objective `fitness`, and does not stop a trial Optuna has already ended", async () => {
    const sweep = await newSweep({});
    expect(sweep.settings.objective).toBe("fitness");
    const jobId = await newTrial(sweep.id, 1, sweep.config);
    const { bridge, calls } = fakeBridge(() => ({ prune: true, finished: true }));
    const reporter = new TrialReporter({ db, bridge, live: fakeLive().live, log: world.log });
    expect(await reporter.report({ sweepId: sweep.id, jobId, trialNumber: 1 }, epoch(4, { "metrics/mAP50-95(B)": 0.5 }, 0.55))).toBe(false);
    expect(calls.map((c) => c.slice(1))).toEqual([[1, 4, 0.55]]);
  });

  it("reports nothing for an epoch without the objective, warning once per trial", async () => {
    const sweep = await newSweep({ objective: "metrics/mAP50-95(M)" });
    const jobId = await newTrial(sweep.id, 0, sweep.config);
    const { bridge } = fakeBridge();
    const { live, trials } = fakeLive();
    const { log, lines } = recordingLog();
    const reporter = new TrialReporter({ db, bridge, live, log });
    const trial = { sweepId: sweep.id, jobId, trialNumber: 0 };
    expect(await reporter.report(trial, epoch(1, { "metrics/mAP50-95(B)": 0.2 }, 0.2))).toBe(false);
    expect(await reporter.report(trial, epoch(2, { "metrics/mAP50-95(B)": 0.3, "metrics/mAP50-95(M)": null }, 0.3))).toBe(false);
    expect(bridge.report).not.toHaveBeenCalled();
    expect(trials).toEqual([]);
    const warnings = lines.filter((l) => l.msg.includes("no value for the objective"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ level: 40, objective: "metrics/mAP50-95(M)", jobId, epoch: 1 });
  });

  it("survives a bridge that throws and a sweep that is gone: false, logged, nothing published", async () => {
    const sweep = await newSweep({ objective: "metrics/mAP50-95(B)" });
    const jobId = await newTrial(sweep.id, 0, sweep.config);
    const { bridge } = fakeBridge(() => new Error("the Optuna bridge did not answer report within 30000 ms"));
    const { live, trials } = fakeLive();
    const { log, lines } = recordingLog();
    const reporter = new TrialReporter({ db, bridge, live, log });
    await expect(reporter.report({ sweepId: sweep.id, jobId, trialNumber: 0 }, epoch(1, { "metrics/mAP50-95(B)": 0.2 }))).resolves.toBe(
      false,
    );
    expect(bridge.report).toHaveBeenCalledOnce();
    expect(trials).toEqual([]);
    expect(lines.find((l) => l.msg === "sweep trial not reported; it trains on")).toMatchObject({
      level: 40,
      err: { message: "the Optuna bridge did not answer report within 30000 ms" },
    });

    await expect(reporter.report({ sweepId: "no-such-sweep", jobId, trialNumber: 0 }, epoch(1, { fitness: 1 }, 1))).resolves.toBe(false);
    expect(lines.some((l) => l.msg === "sweep trial not reported: its sweep is gone")).toBe(true);
    // Postgres away: the query fails, the answer is still false.
    const broken = new Proxy(db, {
      get: (t, k, r) =>
        k === "sweep" ? { findUnique: () => Promise.reject(new Error("Can't reach database server")) } : Reflect.get(t, k, r),
    });
    const offline = new TrialReporter({ db: broken, bridge, live, log });
    await expect(offline.report({ sweepId: sweep.id, jobId, trialNumber: 0 }, epoch(2, { "metrics/mAP50-95(B)": 0.3 }))).resolves.toBe(
      false,
    );
    expect(bridge.report).toHaveBeenCalledOnce();
  });
});

describe("a sweep trial's training", () => {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-trial-"));
  mkdirSync(path.join(dataDir, "datasets", "shapes"), { recursive: true });
  writeFileSync(path.join(dataDir, "datasets", "shapes", "data.yaml"), "names: {0: a}\n");
  const env = workerEnvSchema.parse({
    ...process.env,
    WORKER_NAME: "w-trial",
    TRAINER_COMMAND: "node apps/worker/test/fixtures/fake-trainer.mjs",
    WORKER_DATA_DIR: dataDir,
    DATASETS_DIR: path.join(dataDir, "datasets"),
    FLUSH_INTERVAL_MS: "100",
    HEARTBEAT_INTERVAL_MS: "1000",
    CANCEL_KILL_TIMEOUT_MS: "10000",
    SHUTDOWN_TIMEOUT_MS: "15000",
  });

  function train(jobId: string, trials: TrialReporter | undefined) {
    const job = { id: jobId, progress: 0, moveToDelayed: vi.fn(async () => {}), updateProgress: vi.fn(async () => {}) };
    const ctx = { job, token: "t", signal: new AbortController().signal, log: world.log } as unknown as JobContext;
    const rt: TrainingRuntime = {
      env,
      db,
      live: fakeLive().live,
      lifecycle,
      active: new Map(),
      isDraining: () => false,
      cannotTrain: () => undefined,
      placeJob: async () => ({ device: "cpu", gpuIndexes: [] }),
      releaseJob: () => {},
      trials,
    };
    return runTraining({ jobId }, ctx, rt);
  }

  it("stops at the epoch boundary after the pruner says so and ends SUCCEEDED, pruned at its last recorded epoch", async () => {
    const sweep = await newSweep({ objective: "fitness", pruner: "median", grace_period: 2 });
    const config = { ...sweep.config, train: { ...sweep.config.train, lr0: 0.0005 } };
    const jobId = await newTrial(sweep.id, 0, config);
    const { bridge, calls } = fakeBridge((step) => ({ prune: step >= 3, finished: false }));
    const reporter = new TrialReporter({ db, bridge, live: fakeLive().live, log: world.log });

    expect(await train(jobId, reporter)).toEqual({ status: "SUCCEEDED" });
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    expect(row.status).toBe("SUCCEEDED");
    // The answer at epoch 3 reaches the trainer during epoch 3 or soon after (150 ms epochs): it stops there, short of 8.
    expect(row.prunedAtEpoch).toBeGreaterThanOrEqual(3);
    expect(row.prunedAtEpoch).toBeLessThan(8);
    const epochs = await db.jobEpoch.findMany({ where: { jobId }, orderBy: { epoch: "asc" } });
    expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: row.prunedAtEpoch! }, (_, i) => i + 1));
    // The stand-in's curve of the trial's own arguments, reported as the objective and kept as `fitness`.
    const curve = (n: number) => standinCurve(config.train, n);
    expect(calls.map(([, number, step, value]) => [number, step, value])).toEqual(epochs.map((e) => [0, e.epoch, curve(e.epoch)]));
    expect((epochs[0]!.metrics as Record<string, number>).fitness).toBeCloseTo(curve(1), 12);
    // Fitness is kept, never the job's best.
    expect(row.bestMetricName).toBe("metrics/mAP50-95(B)");
    const last = row.prunedAtEpoch!;
    const events = await db.jobEvent.findMany({ where: { jobId }, orderBy: { createdAt: "asc" } });
    expect(events.at(-1)).toMatchObject({
      kind: "pruned",
      message: `Pruned by the sweep at epoch ${last} (objective ${Number(curve(last).toPrecision(4))})`,
    });
  });

  it("trains a trial the pruner keeps to the end, and reports nothing for a job without a sweep", async () => {
    const sweep = await newSweep({ objective: "metrics/mAP50-95(B)" }, { epochs: 3 });
    const jobId = await newTrial(sweep.id, 0, sweep.config);
    const { bridge, calls } = fakeBridge();
    const reporter = new TrialReporter({ db, bridge, live: fakeLive().live, log: world.log });
    expect(await train(jobId, reporter)).toEqual({ status: "SUCCEEDED" });
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    expect([row.prunedAtEpoch, calls.map((c) => c[2])]).toEqual([null, [1, 2, 3]]);
    expect((await db.jobEvent.findMany({ where: { jobId }, orderBy: { createdAt: "asc" } })).at(-1)).toMatchObject({
      kind: "succeeded",
      message: "Finished",
    });

    const plain = await db.trainingJob.create({
      data: { projectId: world.projectId, createdById: world.userId, name: "plain", config: json(sweep.config) },
      select: { id: true },
    });
    expect(await train(plain.id, reporter)).toEqual({ status: "SUCCEEDED" });
    expect(calls).toHaveLength(3);
  });
});
