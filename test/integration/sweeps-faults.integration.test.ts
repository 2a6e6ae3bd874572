import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACTIVE_STATUSES, SWEEP_JOB_NAME, TERMINAL_STATUSES, type SweepSettings, type TrainingConfig } from "@wyolo/contracts";
import { ownRedis } from "../../apps/web/test/outages";
import { advanceSweep, type AdvanceDeps } from "../../apps/worker/src/sweeps/advance-sweep";
import { OptunaBridge, optunaStorageUrl, studySpecFor } from "../../apps/worker/src/sweeps/optuna-bridge";
import { createLogger } from "../../apps/worker/src/logger";
import { ROOT } from "./db";
import { startPgProxy } from "./pg-proxy";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// Sweeps through faults, for real: two worker processes (fake trainer on the stand-in objective,
// Debian's Optuna) reach Postgres only through a TCP proxy this file cuts, and Redis is a
// redis-server of this file's own that it kills and starts again empty. The web side (routes,
// the reconciler) and the assertions use Postgres directly. After every fault the sweep must
// end with each trial number once, as many trial jobs as Optuna trials, none RUNNING in Optuna.
const redisServer = await ownRedis();
process.env.REDIS_URL = redisServer.url;
const pg = await startPgProxy(process.env.DATABASE_URL!);

const { db } = await import("@/server/db");
const { sweepQueue, trainingQueue } = await import("@/server/queue");
const { reconcileQueue } = await import("@/server/jobs/reconcile-queue");
const { lifecycle } = await import("@/server/jobs/lifecycle");
const { enqueueTraining } = await import("@/server/jobs/enqueue");
const { enqueueSweepAdvance } = await import("@/server/sweeps/enqueue-advance");
const sweepsRoute = await import("@/app/api/v1/projects/[projectId]/sweeps/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("./helpers");

const OPTUNA_COMMAND = `/usr/bin/python3 apps/worker/sweeper/optuna_bridge.py`;
const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-sweep-faults-"));
// The test's own view of the studies: straight to Postgres, never through the proxy.
const bridge = new OptunaBridge({ command: OPTUNA_COMMAND, storageUrl: optunaStorageUrl(process.env.DATABASE_URL!), cwd: ROOT });
const workers: WorkerHandle[] = [];
const byName = new Map<string, WorkerHandle>();
let cookie: string;
let projectId: string;
let seq = 0;

function start() {
  const w = startWorker(`faulty-${++seq}`, { DATABASE_URL: pg.url, WORKER_DATA_DIR: dataDir, WORKER_CONCURRENCY: "2", OPTUNA_COMMAND });
  workers.push(w);
  byName.set(`faulty-${seq}`, w);
  return w;
}
const alive = (w: WorkerHandle) => w.child.exitCode === null && w.child.signalCode === null;

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
const trialJobs = (sweepId: string) => db.trainingJob.findMany({ where: { sweepId }, orderBy: { trialNumber: "asc" } });
const activeTrials = (sweepId: string) => db.trainingJob.count({ where: { sweepId, status: { in: [...ACTIVE_STATUSES] } } });

async function studyOf(sweepId: string) {
  const s = await sweepRow(sweepId);
  return studySpecFor(sweepId, s.settings as unknown as SweepSettings, (s.config as unknown as TrainingConfig).train.epochs);
}
const optunaTrials = async (sweepId: string) => bridge.trials(await studyOf(sweepId));

/**
 * The web process's reconciler, every `everyMs` instead of every minute, until `stop()`, which
 * answers the training rows it re-queued; its errors (Redis away) are the web's to log.
 */
function reconciler(everyMs = 2_000) {
  let on = true;
  const requeued = new Set<string>();
  const loop = (async () => {
    while (on) {
      const round = await reconcileQueue({ graceMs: 4_000 }).catch(() => null);
      for (const id of round?.requeued ?? []) requeued.add(id);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return async () => ((on = false), await loop, requeued);
}

/** Marks the workers' output; `said()` then answers the distinct warnings and errors logged since, with how often. */
function workerWarnings() {
  const marks = new Map(workers.map((w) => [w, w.output().length]));
  return () => {
    const seen: Record<string, number> = {};
    for (const [w, mark] of marks)
      for (const line of w.output().slice(mark).split("\n")) {
        const entry = (() => {
          try {
            return JSON.parse(line) as { level?: number; msg?: string };
          } catch {
            return null;
          }
        })();
        if (entry?.msg && (entry.level ?? 0) >= 40) seen[entry.msg] = (seen[entry.msg] ?? 0) + 1;
      }
    return seen;
  };
}

/** Samples the sweep's active trials every 50 ms; `stop()` answers the most seen at once. */
function sampleActive(sweepId: string) {
  let on = true;
  let most = 0;
  const loop = (async () => {
    while (on) {
      most = Math.max(most, await activeTrials(sweepId));
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return async () => ((on = false), await loop, most);
}

/** Waits for the sweep to reach `status`; on a timeout, says where it and its trials are, and what the workers said. */
async function sweepEnds(id: string, status: string, timeoutMs = 60_000) {
  try {
    return await waitFor(async () => (await sweepRow(id)).status === status && sweepRow(id), timeoutMs, `sweep ${id} ${status}`);
  } catch (err) {
    const s = await sweepRow(id);
    const jobs = await trialJobs(id);
    const said = workers.filter(alive).map((w) => w.output().split("\n").slice(-15).join("\n"));
    throw new Error(
      `${(err as Error).message}: it is ${s.status} (${s.failureReason ?? ""})\n${jobs
        .map((j) => `#${j.trialNumber} ${j.status} ${j.trialState} epoch ${j.currentEpoch}`)
        .join("\n")}\n${said.join("\n---\n")}`,
      { cause: err },
    );
  }
}

/**
 * The sweep's ledger is whole: trial jobs numbered 0..n-1 exactly once, each ended and told,
 * Optuna holding the same numbers, none RUNNING or WAITING, each in the state its job records.
 */
async function expectWholeLedger(sweepId: string, n: number) {
  const jobs = await trialJobs(sweepId);
  const numbers = jobs.map((j) => j.trialNumber);
  expect(numbers).toEqual(Array.from({ length: n }, (_, i) => i));
  expect(jobs.filter((j) => !TERMINAL_STATUSES.includes(j.status)).map((j) => j.trialNumber)).toEqual([]);
  expect(jobs.filter((j) => j.trialState === null).map((j) => j.trialNumber)).toEqual([]);
  const trials = await optunaTrials(sweepId);
  expect(trials.map((t) => t.number)).toEqual(numbers);
  expect(trials.filter((t) => t.state === "RUNNING" || t.state === "WAITING").map((t) => t.number)).toEqual([]);
  expect(jobs.map((j) => [j.trialNumber, j.trialState])).toEqual(trials.map((t) => [t.number, t.state]));
  const tally = (states: (string | null)[]) =>
    states.reduce<Record<string, number>>((m, s) => ((m[String(s)] = (m[String(s)] ?? 0) + 1), m), {});
  return { jobs, trials, states: tally(trials.map((t) => t.state)), jobStatuses: tally(jobs.map((j) => j.status)) };
}

beforeAll(async () => {
  const member = await createUser({ name: "Faye" });
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Faults", slug: "faults" } })).id;
  cookie = await sessionCookie(member);
  // The workers' Optuna storage is derived from their DATABASE_URL: it goes through the proxy too.
  expect(optunaStorageUrl(pg.url)).toContain(`@127.0.0.1:${new URL(pg.url).port}/`);
  start();
  start();
  await Promise.all(workers.map((w) => w.ready));
});

afterAll(async () => {
  await pg.restore();
  await redisServer.start();
  await Promise.all(workers.map((w) => w.stop()));
  await bridge.close();
  await trainingQueue.obliterate({ force: true }).catch(() => {});
  await sweepQueue.obliterate({ force: true }).catch(() => {});
  await redisServer.kill();
  await pg.cut();
});

describe("sweeps through faults, with real Optuna and real workers", { timeout: 120_000 }, () => {
  it("Postgres cut twice (at the sweep's first step, and mid-trial with steps asked meanwhile): the sweep completes, every number once, none left RUNNING", async () => {
    const said = workerWarnings();
    const id = await createSweep(
      "pg blip",
      sweepConfig({ n_trials: 6, parallel: 2, pruner: "successive_halving", grace_period: 1, seed: 21 }, 5, 150),
    );
    // The web wrote the sweep and its first step's entry; the workers cannot reach Postgres for it.
    await pg.cut();
    await new Promise((r) => setTimeout(r, 4_000));
    await pg.restore();
    await waitFor(
      async () => (await db.trainingJob.count({ where: { sweepId: id, status: "RUNNING", currentEpoch: { gte: 2 } } })) >= 1,
      30_000,
      "a trial at epoch 2",
    );
    const before = await trialJobs(id);
    await pg.cut();
    // Steps asked while it is away (as a trial's end or the reconciler would): they fail and are retried.
    for (let i = 0; i < 3; i++) {
      await enqueueSweepAdvance(id, "trial-ended");
      await new Promise((r) => setTimeout(r, 1_300));
    }
    await pg.restore();
    // No reconciler here: the workers' own retries (hand-backs, the steps' backoff) carry the sweep on.
    const ended = await sweepEnds(id, "COMPLETED", 90_000);
    expect(workers.every(alive)).toBe(true);
    const { states, jobStatuses } = await expectWholeLedger(id, 6);
    const warnings = said();
    console.log(
      `pg blip: ${before.length} trials before the second cut; after: Optuna ${JSON.stringify(states)}, jobs ${JSON.stringify(jobStatuses)}; workers said ${JSON.stringify(warnings)}`,
    );
    expect(warnings["sweep step failed"], "steps ran into the cut").toBeGreaterThan(0);
    expect(warnings["flush failed; kept and spilled, will retry"], "a trial's recording ran into the cut").toBeGreaterThan(0);
    expect(ended.bestValue).not.toBeNull();
  });

  it("Redis killed mid-sweep and started again empty: with the reconciler, the sweep completes, every number once, none left RUNNING", async () => {
    const id = await createSweep("redis blip", sweepConfig({ n_trials: 6, parallel: 2, pruner: "none", seed: 22 }, 6, 200));
    await waitFor(
      async () => (await db.trainingJob.count({ where: { sweepId: id, status: "RUNNING", currentEpoch: { gte: 2 } } })) >= 1,
      30_000,
      "a trial at epoch 2",
    );
    const stopSampling = sampleActive(id);
    const said = workerWarnings();
    await redisServer.kill();
    await new Promise((r) => setTimeout(r, 3_000));
    await redisServer.start(); // empty: every queue entry (trials, advance steps, locks) is gone
    const stop = reconciler();
    let requeued = new Set<string>();
    await sweepEnds(id, "COMPLETED", 100_000).finally(async () => (requeued = await stop()));
    const most = await stopSampling();
    expect(workers.every(alive)).toBe(true);
    expect(most).toBeLessThanOrEqual(2);
    const { jobs, states, jobStatuses } = await expectWholeLedger(id, 6);
    const warnings = said();
    console.log(
      `redis blip: Optuna ${JSON.stringify(states)}, jobs ${JSON.stringify(jobStatuses)}, most active ${most}, re-queued by the reconciler ${requeued.size}; workers said ${JSON.stringify(warnings)}`,
    );
    expect(Object.keys(warnings).length, "the kill reached the workers").toBeGreaterThan(0);
    // A trial whose entry vanished was re-queued and resumed: it kept its row, hence its number.
    expect(jobs.every((j) => j.status === "SUCCEEDED")).toBe(true);
  });

  it("a crash between ask and insert: the orphaned Optuna trial is adopted and trained; on an ended sweep an orphan is told FAIL", async () => {
    const id = await createSweep("orphans", sweepConfig({ n_trials: 4, parallel: 2, pruner: "none", seed: 23 }, 6, 200));
    const stopSampling = sampleActive(id);
    await waitFor(
      async () => (await db.trainingJob.count({ where: { sweepId: id, status: "RUNNING", currentEpoch: { gte: 4 } } })) >= 1,
      30_000,
      "a trial at epoch 4",
    );
    // The crashed step: it holds the sweep's lock (as an advance does), asks, and dies before its insert.
    const study = await studyOf(id);
    const said = workerWarnings();
    let orphan!: { number: number; params: Record<string, unknown> };
    await db.$transaction(
      async (tx) => {
        await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`wyolo-sweep:${id}`}))`;
        orphan = (await bridge.ask(study, 1))[0]!;
        // A trial ends meanwhile, so the next step has the slot the crashed one asked for.
        await waitFor(
          async () => (await db.trainingJob.count({ where: { sweepId: id, status: { in: [...TERMINAL_STATUSES] } } })) >= 1,
          20_000,
          "a trial to end",
        );
      },
      { timeout: 30_000 },
    );
    expect(orphan.number).toBe(2);
    await sweepEnds(id, "COMPLETED");
    const most = await stopSampling();
    expect(most).toBeLessThanOrEqual(2);
    const { jobs, states } = await expectWholeLedger(id, 4);
    const adopted = jobs.find((j) => j.trialNumber === orphan.number)!;
    expect(adopted.trialParams).toEqual(orphan.params);
    expect(adopted.status).toBe("SUCCEEDED");
    expect(adopted.trialState).toBe("COMPLETE");
    expect(said()["adopted an Optuna trial that had no job (asked before a crash)"]).toBe(1);
    console.log(`orphans: trial #${orphan.number} adopted; Optuna ${JSON.stringify(states)}, most active ${most}`);

    // An ended sweep starts nothing: its orphan (asked by a step that died) is told FAIL, no job made.
    const [late] = await bridge.ask(study, 1);
    expect(late!.number).toBe(4);
    await enqueueSweepAdvance(id, "trial-ended");
    await waitFor(
      async () => (await optunaTrials(id)).find((t) => t.number === late!.number)?.state === "FAIL",
      20_000,
      "the late orphan told FAIL",
    );
    expect(await db.trainingJob.count({ where: { sweepId: id } })).toBe(4);
    expect((await sweepRow(id)).status).toBe("COMPLETED");
  });

  it("a deadline that passes mid-sweep: no trial starts after it, and the sweep completes once the running ones end", async () => {
    const id = await createSweep("deadline", sweepConfig({ n_trials: 6, parallel: 2, pruner: "none", seed: 24 }, 14, 200));
    await waitFor(
      async () => (await db.trainingJob.count({ where: { sweepId: id, status: "RUNNING", currentEpoch: { gte: 2 } } })) === 2,
      30_000,
      "two trials at epoch 2",
    );
    const deadlineAt = new Date(Date.now() + 500);
    await db.sweep.update({ where: { id }, data: { deadlineAt } });
    const stop = reconciler(); // the web's reconciler catches a deadline; here it also asks steps after it
    const sweep = await sweepEnds(id, "COMPLETED").finally(stop);
    const { jobs, states } = await expectWholeLedger(id, 2);
    expect(jobs.every((j) => j.createdAt < deadlineAt)).toBe(true);
    expect(jobs.every((j) => j.finishedAt! > deadlineAt)).toBe(true);
    expect(sweep.finishedAt!.getTime()).toBeGreaterThanOrEqual(Math.max(...jobs.map((j) => j.finishedAt!.getTime())));
    console.log(`deadline: ${jobs.length} of 6 trials, Optuna ${JSON.stringify(states)}`);
  });

  it("advance steps run many at once (queued bursts and direct calls): no number twice, never more than `parallel` active", async () => {
    const id = await createSweep("stampede", sweepConfig({ n_trials: 5, parallel: 2, pruner: "none", seed: 25 }, 3, 100));
    const stopSampling = sampleActive(id);
    // Steps of this test process itself, on its own bridge, beside the workers' (each takes the sweep's lock).
    const log = createLogger("silent", "test");
    const deps: AdvanceDeps = {
      db,
      lifecycle,
      bridge,
      live: { sweepUpdated: () => {}, sweepTrial: () => {}, jobUpdated: () => {}, event: () => {} },
      log,
      enqueueTrial: (jobId, priority) => enqueueTraining(jobId, priority),
      scheduleAdvance: async () => {},
      requestStop: async () => {},
    };
    let bursts = 0;
    let direct = 0;
    let on = true;
    const stampede = (async () => {
      while (on) {
        bursts++;
        await Promise.all([
          ...Array.from({ length: 10 }, (_, i) =>
            sweepQueue.add(
              SWEEP_JOB_NAME,
              { sweepId: id },
              { jobId: `sweep-${id}-burst-${bursts}-${i}`, removeOnComplete: true, removeOnFail: true },
            ),
          ),
          ...Array.from({ length: 3 }, () => advanceSweep(id, deps).then(() => direct++)),
        ]);
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    await sweepEnds(id, "COMPLETED").finally(() => (on = false));
    await stampede;
    const most = await stopSampling();
    expect(most).toBeLessThanOrEqual(2);
    const { states } = await expectWholeLedger(id, 5);
    console.log(
      `stampede: ${bursts} bursts of 10 queued + 3 direct steps (${direct} direct), most active ${most}, Optuna ${JSON.stringify(states)}`,
    );
    expect(bursts).toBeGreaterThan(3);
  });

  it("a worker restarted (SIGTERM) mid-trial: its trial hands back and resumes on another worker, same row and number; the sweep completes", async () => {
    const id = await createSweep("restart", sweepConfig({ n_trials: 3, parallel: 2, pruner: "none", seed: 26 }, 10, 250));
    const running = await waitFor(
      async () => db.trainingJob.findFirst({ where: { sweepId: id, status: "RUNNING", currentEpoch: { gte: 3 } } }),
      30_000,
      "a trial at epoch 3",
    );
    const victim = byName.get(running.workerName!)!;
    expect(victim && alive(victim), `the worker of trial #${running.trialNumber} (${running.workerName})`).toBe(true);
    await victim.stop();
    const replacement = start();
    await replacement.ready;
    await sweepEnds(id, "COMPLETED");
    const { jobs, states } = await expectWholeLedger(id, 3);
    const resumed = jobs.find((j) => j.id === running.id)!;
    expect(resumed.trialNumber).toBe(running.trialNumber);
    expect(resumed.status).toBe("SUCCEEDED");
    expect(resumed.workerName).not.toBe(running.workerName);
    expect(await db.jobEpoch.count({ where: { jobId: resumed.id } })).toBe(10);
    console.log(
      `restart: trial #${running.trialNumber} handed back by ${running.workerName}, finished on ${resumed.workerName}; Optuna ${JSON.stringify(states)}`,
    );
  });

  it("the workers' Postgres connections dropped under running queries, again and again for 5 s: the sweep completes, every number once", async () => {
    const said = workerWarnings();
    const id = await createSweep("churn", sweepConfig({ n_trials: 6, parallel: 3, pruner: "none", seed: 27 }, 3, 100));
    await waitFor(async () => (await db.trainingJob.count({ where: { sweepId: id } })) >= 1, 30_000, "the first trial asked");
    // Each drop lands wherever the workers are: inside an advance's transaction, an Optuna ask or tell, a recording flush.
    const until = Date.now() + 5_000;
    let drops = 0;
    while (Date.now() < until) {
      pg.dropConnections();
      drops++;
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 200));
    }
    const stop = reconciler();
    await sweepEnds(id, "COMPLETED", 90_000).finally(stop);
    const { states, jobStatuses } = await expectWholeLedger(id, 6);
    console.log(
      `churn: ${drops} drops; Optuna ${JSON.stringify(states)}, jobs ${JSON.stringify(jobStatuses)}; workers said ${JSON.stringify(said())}`,
    );
  });
});
