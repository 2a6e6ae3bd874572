import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SWEEP_JOB_NAME, sweepQueueName, type SweepDetail, type SweepSummary } from "@wyolo/contracts";
import { db } from "@/server/db";
import { sweepQueue, trainingQueue } from "@/server/queue";
import { enqueueTraining } from "@/server/jobs/enqueue";
import { reconcileQueue } from "@/server/jobs/reconcile-queue";
import * as sweepsRoute from "@/app/api/v1/projects/[projectId]/sweeps/route";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as sweepRoute from "@/app/api/v1/sweeps/[sweepId]/route";
import * as cancelRoute from "@/app/api/v1/sweeps/[sweepId]/cancel/route";
import * as trialsRoute from "@/app/api/v1/sweeps/[sweepId]/trials/route";
import * as trainBestRoute from "@/app/api/v1/sweeps/[sweepId]/train-best/route";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";

const SPACE = { lr0: { type: "float", low: 1e-4, high: 0.1, log: true }, batch: { type: "categorical", choices: [8, 16] } };
const CONFIG = {
  model: "yolo11n.pt",
  train: { data: "shapes/data.yaml", epochs: 3 },
  sweeper: { n_trials: 4, parallel: 2, search_space: SPACE },
};

type User = Awaited<ReturnType<typeof createUser>>;
let owner: User, admin: User, member: User, peer: User, viewer: User, outsider: User;
let projectId: string;
let otherProjectId: string;

beforeAll(async () => {
  [owner, admin, member, peer, viewer, outsider] = await Promise.all([
    createUser(),
    createUser(),
    createUser(),
    createUser(),
    createUser(),
    createUser(),
  ]);
  const team = await createTeamWith([
    { userId: owner.id, role: "OWNER" },
    { userId: admin.id, role: "ADMIN" },
    { userId: member.id, role: "MEMBER" },
    { userId: peer.id, role: "MEMBER" },
    { userId: viewer.id, role: "VIEWER" },
  ]);
  const otherTeam = await createTeamWith([{ userId: outsider.id, role: "OWNER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "P", slug: "p" } })).id;
  otherProjectId = (await db.project.create({ data: { teamId: otherTeam.id, name: "O", slug: "o" } })).id;
});

afterAll(async () => {
  await trainingQueue.obliterate({ force: true });
  await sweepQueue.obliterate({ force: true });
});

const as = async (user: { id: string }) => sessionCookie(user);

async function create(user: User, body: unknown, project = projectId) {
  return call(sweepsRoute.POST, { cookie: await as(user), params: { projectId: project }, body });
}

/** The advance steps waiting in the sweeps queue for one sweep (nothing consumes them in this file). */
async function advances(sweepId: string): Promise<string[]> {
  const entries = await sweepQueue.getJobs(["waiting", "prioritized", "delayed"]);
  return entries
    .filter((e) => e.data.sweepId === sweepId)
    .map((e) => {
      expect(e.name).toBe(SWEEP_JOB_NAME);
      return e.id!;
    });
}

let trialCounter = 0;
/** A trial job as the worker's advance step writes it, with its recorded epochs (fitness in metrics, as the recorder stores it). */
async function trial(
  sweepId: string,
  number: number,
  fields: {
    status: "QUEUED" | "RUNNING" | "SUCCEEDED" | "FAILED";
    state?: string;
    value?: number;
    params?: object;
    prunedAtEpoch?: number;
  },
  fitness: number[] = [],
) {
  const sweep = await db.sweep.findUniqueOrThrow({ where: { id: sweepId } });
  const job = await db.trainingJob.create({
    data: {
      projectId: sweep.projectId,
      createdById: sweep.createdById,
      name: `${sweep.name} #${number}`,
      config: sweep.config as object,
      status: fields.status,
      model: "yolo11n.pt",
      totalEpochs: 3,
      sweepId,
      trialNumber: number,
      trialParams: fields.params ?? { lr0: 0.01 * (number + 1), batch: 8 },
      trialState: fields.state ?? null,
      trialValue: fields.value ?? null,
      prunedAtEpoch: fields.prunedAtEpoch ?? null,
      startedAt: fields.status === "QUEUED" ? null : new Date(Date.now() - 60_000 + trialCounter++),
      finishedAt: ["SUCCEEDED", "FAILED"].includes(fields.status) ? new Date() : null,
      heartbeatAt: fields.status === "RUNNING" ? new Date() : null,
    },
  });
  for (const [i, f] of fitness.entries())
    await db.jobEpoch.create({
      data: { jobId: job.id, epoch: i + 1, losses: {}, metrics: { fitness: f, "metrics/mAP50(B)": f / 2 }, lr: {} },
    });
  return job;
}

describe("creating a sweep", () => {
  it("stores the resolved settings and base config, audits it, queues its first advance step and answers its summary", async () => {
    const res = await create(member, { name: "lr search", priority: "high", config: CONFIG });
    expect(res.status).toBe(201);
    const sweep: SweepSummary = res.body.sweep;
    expect(sweep).toMatchObject({
      projectId,
      name: "lr search",
      status: "QUEUED",
      priority: "high",
      nTrials: 4,
      parallel: 2,
      direction: "maximize",
      objective: "fitness",
      sampler: "TPESampler",
      pruner: "successive_halving",
      counts: { total: 0, active: 0, complete: 0, pruned: 0, failed: 0 },
      bestValue: null,
      createdBy: { id: member.id },
      cancelRequestedAt: null,
      deadlineAt: null,
    });
    const row = await db.sweep.findUniqueOrThrow({ where: { id: sweep.id } });
    expect(row).toMatchObject({ priority: "HIGH", nTrials: 4, parallel: 2, createdById: member.id });
    expect((row.settings as { search_space: unknown }).search_space).toEqual({ ...SPACE, lr0: { ...SPACE.lr0 } });
    expect(row.config).toMatchObject({ model: "yolo11n.pt", task: "detect", train: { data: "shapes/data.yaml", epochs: 3, imgsz: 640 } });
    expect(row.config).not.toHaveProperty("sweeper");
    expect(await db.auditLog.count({ where: { action: "sweep.create", targetId: sweep.id, actorId: member.id } })).toBe(1);
    // The trials are the worker's: the web writes none.
    expect(await db.trainingJob.count({ where: { sweepId: sweep.id } })).toBe(0);
    expect(await advances(sweep.id)).toEqual([`sweep-${sweep.id}-created`]);
    expect(sweepQueue.name).toBe(sweepQueueName(process.env.TRAINING_QUEUE!));
  });

  it("takes the old service's config.yaml as a YAML body: tune implied, study name as the name, secrets never stored, timeout as a deadline", async () => {
    const yaml = [
      'model: "yolov8n.pt"',
      'type: "yolo"',
      "train:",
      '  data: "shapes/data.yaml"',
      "  epochs: 2",
      "minio:",
      '  MINIO_SECRET_KEY: "hunter2-secret"',
      "sweeper:",
      '  study_name: "my_study"',
      "  n_trials: 10",
      "  tune: false",
      "  grace_period: 2",
      '  algorithm: "optuna"',
      '  direction: "maximize"',
      '  sampler: "TPESampler"',
      "  timeout: 3600",
    ].join("\n");
    const res = await call(sweepsRoute.POST, {
      cookie: await as(member),
      params: { projectId },
      rawBody: yaml,
      contentType: "application/yaml",
      query: "priority=low",
    });
    expect(res.status).toBe(201);
    expect(res.body.sweep).toMatchObject({ name: "my_study", nTrials: 10, priority: "low", status: "QUEUED" });
    expect(res.body.warnings[0]).toContain("`minio` was ignored");
    const row = await db.sweep.findUniqueOrThrow({ where: { id: res.body.sweep.id } });
    expect(row.settings).toMatchObject({ grace_period: 2, sampler: "TPESampler", study_name: "my_study" });
    // No space given: Ultralytics' own for the task.
    expect(Object.keys((row.settings as { search_space: object }).search_space)).toEqual(
      expect.arrayContaining(["lr0", "momentum", "box"]),
    );
    expect(JSON.stringify(row)).not.toContain("hunter2-secret");
    expect(row.deadlineAt!.getTime() - Date.now()).toBeGreaterThan(3_500_000);
    expect(await advances(row.id)).toEqual([`sweep-${row.id}-created`]);
  });

  it("a config without a sweeper block gets the default settings and a readable name", async () => {
    const res = await create(member, { config: { model: "yolo11n-cls.pt", train: { data: "flowers", epochs: 2 } } });
    expect(res.status).toBe(201);
    expect(res.body.sweep).toMatchObject({ name: "yolo11n-cls · flowers · sweep", nTrials: 20, parallel: 1 });
    const row = await db.sweep.findUniqueOrThrow({ where: { id: res.body.sweep.id } });
    expect(Object.keys((row.settings as { search_space: object }).search_space)).not.toContain("box");
  });

  it("answers 422 with field paths for a bad search space and unknown sweeper keys, and writes nothing", async () => {
    const before = await db.sweep.count();
    const bad = await create(member, {
      config: {
        ...CONFIG,
        sweeper: { n_trial: 5, search_space: { lr0: { type: "float", low: 0.1, high: 0.01 }, lrr0: { type: "float", low: 0, high: 1 } } },
      },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.fields["config.sweeper.n_trial"][0]).toMatch(/did you mean `n_trials`/);
    const again = await create(member, { config: { ...CONFIG, sweeper: { search_space: SPACE, pruner: "asha" } } });
    expect(again.status).toBe(422);
    expect(Object.keys(again.body.error.fields)).toEqual(["config.sweeper.pruner"]);
    const space = await create(member, {
      config: {
        ...CONFIG,
        sweeper: { search_space: { lr0: { type: "float", low: 0.1, high: 0.01 }, lrr0: { type: "float", low: 0, high: 1 } } },
      },
    });
    expect(space.status).toBe(422);
    expect(space.body.error.fields["config.sweeper.search_space.lr0.high"]).toEqual(["`high` must be greater than `low`"]);
    expect(space.body.error.fields["config.sweeper.search_space.lrr0"][0]).toMatch(/Unknown train argument `lrr0`; did you mean `lr0`/);
    const yaml = await create(member, { config: "model: yolo11n.pt\ntrain: [broken" });
    expect(yaml.status).toBe(422);
    expect(yaml.body.error.fields.config[0]).toMatch(/Not valid YAML/);
    expect(await db.sweep.count()).toBe(before);
  });

  it("refuses a VIEWER (403) and another team (404)", async () => {
    expect((await create(viewer, { config: CONFIG })).status).toBe(403);
    expect((await create(outsider, { config: CONFIG })).status).toBe(404);
    expect((await create(outsider, { config: CONFIG }, otherProjectId)).status).toBe(201);
  });

  it("POST /jobs with sweeper.tune: true creates a sweep instead of a job", async () => {
    const jobsBefore = await db.trainingJob.count();
    const res = await call(jobsRoute.POST, {
      cookie: await as(member),
      params: { projectId },
      body: { name: "from jobs", config: { ...CONFIG, sweeper: { ...CONFIG.sweeper, tune: true } } },
    });
    expect(res.status).toBe(201);
    expect(res.body.kind).toBe("sweep");
    expect(res.body.sweep).toMatchObject({ name: "from jobs", status: "QUEUED", nTrials: 4 });
    expect(res.body.warnings).toEqual([]);
    expect(await db.trainingJob.count()).toBe(jobsBefore);
    expect(await advances(res.body.sweep.id)).toEqual([`sweep-${res.body.sweep.id}-created`]);
    // tune: false stays one job, as before.
    const job = await call(jobsRoute.POST, {
      cookie: await as(member),
      params: { projectId },
      body: { config: { ...CONFIG, sweeper: { ...CONFIG.sweeper, tune: false } } },
    });
    expect(job.status).toBe(201);
    expect(job.body).toMatchObject({ kind: "job", job: { status: "QUEUED" } });
    const viewerTry = await call(jobsRoute.POST, {
      cookie: await as(viewer),
      params: { projectId },
      body: { config: { ...CONFIG, sweeper: { tune: true } } },
    });
    expect(viewerTry.status).toBe(403);
  });
});

describe("reading sweeps", () => {
  let sweepId: string;

  beforeAll(async () => {
    const res = await create(member, { name: "to read", config: CONFIG });
    sweepId = res.body.sweep.id;
    await db.sweep.update({
      where: { id: sweepId },
      data: { status: "RUNNING", bestValue: 0.5, bestTrialNumber: 0, importances: { lr0: 0.8, batch: 0.2 } },
    });
    await trial(sweepId, 0, { status: "SUCCEEDED", state: "COMPLETE", value: 0.5 }, [0.3, 0.5, 0.45]);
    await trial(sweepId, 1, { status: "SUCCEEDED", state: "PRUNED", value: 0.1, prunedAtEpoch: 1 }, [0.1]);
    await trial(sweepId, 2, { status: "FAILED", state: "FAIL" });
    await trial(sweepId, 3, { status: "RUNNING" }, [0.2, 0.25]);
  });

  it("lists a project's sweeps newest first with their trial counts, a page at a time", async () => {
    const cookie = await as(viewer);
    const res = await call(sweepsRoute.GET, { cookie, params: { projectId } });
    expect(res.status).toBe(200);
    const sweeps: SweepSummary[] = res.body.sweeps;
    expect(sweeps[0]!.id).toBe(sweepId);
    expect(sweeps[0]).toMatchObject({
      status: "RUNNING",
      bestValue: 0.5,
      counts: { total: 4, active: 1, complete: 1, pruned: 1, failed: 1 },
    });
    const times = sweeps.map((s) => s.createdAt);
    expect([...times].sort().reverse()).toEqual(times);
    expect(sweeps.slice(1).every((s) => s.counts.total === 0)).toBe(true);

    const first = await call(sweepsRoute.GET, { cookie, params: { projectId }, query: "limit=2" });
    expect(first.body.sweeps).toHaveLength(2);
    const second = await call(sweepsRoute.GET, { cookie, params: { projectId }, query: `limit=2&cursor=${first.body.nextCursor}` });
    expect(second.body.sweeps[0].id).not.toBe(first.body.sweeps[1].id);
    expect(second.body.sweeps[0].createdAt <= first.body.sweeps[1].createdAt).toBe(true);
    const running = await call(sweepsRoute.GET, { cookie, params: { projectId }, query: "status=RUNNING" });
    expect(running.body.sweeps.map((s: SweepSummary) => s.id)).toEqual([sweepId]);
    expect((await call(sweepsRoute.GET, { cookie: await as(outsider), params: { projectId } })).status).toBe(404);
  });

  it("gets one sweep with its trials, each with its objective per epoch from the recorded epochs", async () => {
    const res = await call(sweepRoute.GET, { cookie: await as(viewer), params: { sweepId } });
    expect(res.status).toBe(200);
    const sweep: SweepDetail & { configSource: string } = res.body;
    expect(sweep).toMatchObject({ id: sweepId, name: "to read", counts: { total: 4 }, importances: { lr0: 0.8, batch: 0.2 } });
    expect(sweep.settings.search_space).toHaveProperty("lr0");
    expect(sweep.config.train.epochs).toBe(3);
    expect(sweep.trials.map((t) => [t.number, t.state, t.jobStatus, t.value])).toEqual([
      [0, "COMPLETE", "SUCCEEDED", 0.5],
      [1, "PRUNED", "SUCCEEDED", 0.1],
      [2, "FAIL", "FAILED", null],
      [3, null, "RUNNING", null],
    ]);
    expect(sweep.trials[0]!.intermediate).toEqual([
      [1, 0.3],
      [2, 0.5],
      [3, 0.45],
    ]);
    expect(sweep.trials[1]).toMatchObject({ prunedAtEpoch: 1, intermediate: [[1, 0.1]], params: { lr0: 0.02, batch: 8 } });
    expect(sweep.trials[3]!.intermediate).toEqual([
      [1, 0.2],
      [2, 0.25],
    ]);
    expect(sweep.trials[0]!.startedAt).toEqual(expect.any(String));
    expect(sweep.configSource).toContain('"n_trials": 4');
  });

  it("reads another recorded metric as the objective", async () => {
    await db.sweep.update({
      where: { id: sweepId },
      data: {
        settings: { ...((await db.sweep.findUniqueOrThrow({ where: { id: sweepId } })).settings as object), objective: "metrics/mAP50(B)" },
      },
    });
    const res = await call(sweepRoute.GET, { cookie: await as(viewer), params: { sweepId } });
    expect(res.body.objective).toBe("metrics/mAP50(B)");
    expect(res.body.trials[0].intermediate).toEqual([
      [1, 0.15],
      [2, 0.25],
      [3, 0.225],
    ]);
  });

  it("answers 404 to another team and for an unknown id", async () => {
    expect((await call(sweepRoute.GET, { cookie: await as(outsider), params: { sweepId } })).status).toBe(404);
    expect((await call(sweepRoute.GET, { cookie: await as(owner), params: { sweepId: "nosuchsweep" } })).status).toBe(404);
  });
});

describe("cancelling a sweep", () => {
  it("cancels its queued and running trials through the job cancel path, marks it and queues an advance step", async () => {
    const { body } = await create(member, { name: "to cancel", config: CONFIG });
    const sweepId = body.sweep.id;
    await db.sweep.update({ where: { id: sweepId }, data: { status: "RUNNING" } });
    const queued = await trial(sweepId, 0, { status: "QUEUED" });
    await enqueueTraining(queued.id, "normal");
    const running = await trial(sweepId, 1, { status: "RUNNING" }, [0.2]);
    await enqueueTraining(running.id, "normal"); // a worker holds it (its entry is there)
    const done = await trial(sweepId, 2, { status: "SUCCEEDED", state: "COMPLETE", value: 0.3 });

    // Permissions first: another MEMBER may not, a VIEWER may not, another team does not see it.
    expect((await call(cancelRoute.POST, { cookie: await as(peer), params: { sweepId } })).status).toBe(403);
    expect((await call(cancelRoute.POST, { cookie: await as(viewer), params: { sweepId } })).status).toBe(403);
    expect((await call(cancelRoute.POST, { cookie: await as(outsider), params: { sweepId } })).status).toBe(404);
    expect((await db.sweep.findUniqueOrThrow({ where: { id: sweepId } })).cancelRequestedAt).toBeNull();

    const res = await call(cancelRoute.POST, { cookie: await as(member), params: { sweepId } });
    expect(res.status).toBe(202);
    expect(res.body.sweep).toMatchObject({ id: sweepId, status: "RUNNING", cancelRequestedAt: expect.any(String) });
    expect(await db.trainingJob.findUniqueOrThrow({ where: { id: queued.id } })).toMatchObject({ status: "CANCELLED" });
    expect(await trainingQueue.getJob(queued.id)).toBeUndefined();
    // Running: the worker is told and ends it at the next epoch boundary.
    expect(await db.trainingJob.findUniqueOrThrow({ where: { id: running.id } })).toMatchObject({
      status: "RUNNING",
      cancelRequestedAt: expect.any(Date),
    });
    expect((await db.trainingJob.findUniqueOrThrow({ where: { id: done.id } })).status).toBe("SUCCEEDED");
    expect(await db.auditLog.count({ where: { action: "sweep.cancel", targetId: sweepId, actorId: member.id } })).toBe(1);
    expect(await db.auditLog.count({ where: { action: "job.cancel", targetId: { in: [queued.id, running.id] } } })).toBe(2);
    const ids = await advances(sweepId);
    expect(ids.some((id) => id.startsWith(`sweep-${sweepId}-cancel-`))).toBe(true);
    // The queued trial's end advanced the sweep too (the web lifecycle's onTrialEnded).
    await expect.poll(async () => (await advances(sweepId)).some((id) => id.startsWith(`sweep-${sweepId}-trial-ended-`))).toBe(true);
    expect(ids.every((id) => !id.includes(":"))).toBe(true);

    // Once the advance step ended it, a cancel is a 409.
    await db.sweep.update({ where: { id: sweepId }, data: { status: "CANCELLED", finishedAt: new Date() } });
    const ended = await call(cancelRoute.POST, { cookie: await as(member), params: { sweepId } });
    expect(ended.status).toBe(409);
    expect(ended.body.error.message).toMatch(/already ended \(cancelled\)/);
  });

  it("an ADMIN cancels anyone's sweep", async () => {
    const { body } = await create(peer, { config: CONFIG });
    const res = await call(cancelRoute.POST, { cookie: await as(admin), params: { sweepId: body.sweep.id } });
    expect(res.status).toBe(202);
    expect(res.body.sweep.cancelRequestedAt).toEqual(expect.any(String));
    expect(await db.auditLog.count({ where: { action: "sweep.cancel", targetId: body.sweep.id, actorId: admin.id } })).toBe(1);
  });
});

describe("adding trials", () => {
  it("grows the budget of an ended sweep and sends it back to RUNNING in the same study, audited, with an advance step", async () => {
    const { body } = await create(member, { config: CONFIG });
    const sweepId = body.sweep.id;
    await db.sweep.update({
      where: { id: sweepId },
      data: { status: "CANCELLED", cancelRequestedAt: new Date(), finishedAt: new Date(), startedAt: new Date() },
    });
    expect((await call(trialsRoute.POST, { cookie: await as(peer), params: { sweepId }, body: { count: 2 } })).status).toBe(403);
    expect((await call(trialsRoute.POST, { cookie: await as(outsider), params: { sweepId }, body: { count: 2 } })).status).toBe(404);

    const res = await call(trialsRoute.POST, { cookie: await as(member), params: { sweepId }, body: { count: 3 } });
    expect(res.status).toBe(200);
    expect(res.body.sweep).toMatchObject({ id: sweepId, status: "RUNNING", nTrials: 7, cancelRequestedAt: null, finishedAt: null });
    expect(await db.auditLog.count({ where: { action: "sweep.add_trials", targetId: sweepId, actorId: member.id } })).toBe(1);
    expect((await advances(sweepId)).some((id) => id.startsWith(`sweep-${sweepId}-trials-added-`))).toBe(true);

    // Still running: only the budget grows; an ADMIN may add to anyone's.
    const more = await call(trialsRoute.POST, { cookie: await as(admin), params: { sweepId }, body: { count: 1 } });
    expect(more.body.sweep).toMatchObject({ status: "RUNNING", nTrials: 8 });
  });

  it("gives a sweep that ended at its timeout a new deadline, so the added trials can start", async () => {
    const { body } = await create(member, { config: { ...CONFIG, sweeper: { ...CONFIG.sweeper, timeout: 600 } } });
    const sweepId = body.sweep.id;
    const past = new Date(Date.now() - 1000);
    await db.sweep.update({ where: { id: sweepId }, data: { status: "COMPLETED", deadlineAt: past, finishedAt: past } });
    const res = await call(trialsRoute.POST, { cookie: await as(member), params: { sweepId }, body: { count: 2 } });
    expect(res.status).toBe(200);
    const row = await db.sweep.findUniqueOrThrow({ where: { id: sweepId } });
    expect(row.status).toBe("RUNNING");
    // 600 s from now, not the old deadline.
    expect(row.deadlineAt!.getTime() - Date.now()).toBeGreaterThan(590_000);
  });

  it("keeps a sweep at 1000 trials at most (422 on count)", async () => {
    const { body } = await create(member, { config: CONFIG });
    await db.sweep.update({ where: { id: body.sweep.id }, data: { nTrials: 999 } });
    const res = await call(trialsRoute.POST, { cookie: await as(member), params: { sweepId: body.sweep.id }, body: { count: 2 } });
    expect(res.status).toBe(422);
    expect(res.body.error.fields.count[0]).toMatch(/at most 1000 trials; this one has 999, so at most 1 more/);
    const zero = await call(trialsRoute.POST, { cookie: await as(member), params: { sweepId: body.sweep.id }, body: { count: 0 } });
    expect(zero.status).toBe(422);
    expect(zero.body.error.fields.count).toEqual(["At least 1"]);
    expect((await db.sweep.findUniqueOrThrow({ where: { id: body.sweep.id } })).nTrials).toBe(999);
  });
});

describe("training the best", () => {
  it("is a 409 until a trial completed, then a normal job with the best trial's arguments", async () => {
    const { body } = await create(member, { name: "best of", config: CONFIG });
    const sweepId = body.sweep.id;
    await trial(sweepId, 0, { status: "SUCCEEDED", state: "PRUNED", value: 0.9, prunedAtEpoch: 1 });
    const none = await call(trainBestRoute.POST, { cookie: await as(member), params: { sweepId } });
    expect(none.status).toBe(409);
    expect(none.body.error.message).toMatch(/No trial of this sweep has completed/);

    await trial(sweepId, 1, { status: "SUCCEEDED", state: "COMPLETE", value: 0.4, params: { lr0: 0.001, batch: 8 } });
    await trial(sweepId, 2, { status: "SUCCEEDED", state: "COMPLETE", value: 0.7, params: { lr0: 0.02, batch: 16 } });
    expect((await call(trainBestRoute.POST, { cookie: await as(viewer), params: { sweepId } })).status).toBe(403);
    const res = await call(trainBestRoute.POST, { cookie: await as(peer), params: { sweepId } });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ kind: "job", job: { name: "best of · best (#2)", status: "QUEUED", priority: "normal" } });
    const job = await db.trainingJob.findUniqueOrThrow({ where: { id: res.body.job.id } });
    expect(job).toMatchObject({ sweepId: null, createdById: peer.id, totalEpochs: 3 });
    expect(job.config).toMatchObject({ train: { lr0: 0.02, batch: 16, epochs: 3 }, metadata: { sweep_id: sweepId, from_trial: 2 } });
    expect((await trainingQueue.getJob(job.id))?.data).toEqual({ jobId: job.id });
  });
});

describe("the reconciler", () => {
  it("asks an advance step of every QUEUED/RUNNING sweep, once per sweep while one waits, none for ended ones", async () => {
    const active = (await create(member, { config: CONFIG })).body.sweep.id as string;
    const ended = (await create(member, { config: CONFIG })).body.sweep.id as string;
    await db.sweep.update({ where: { id: ended }, data: { status: "COMPLETED", finishedAt: new Date() } });
    const first = await reconcileQueue({ graceMs: 60_000 });
    expect(first.advanced).toContain(active);
    expect(first.advanced).not.toContain(ended);
    await reconcileQueue({ graceMs: 60_000 });
    expect((await advances(active)).filter((id) => id === `sweep-${active}-reconcile`)).toHaveLength(1);
    expect((await advances(ended)).some((id) => id.endsWith("-reconcile"))).toBe(false);
  });
});
