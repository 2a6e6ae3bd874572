import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WORKER_LOST_FAILURE } from "@wyolo/contracts";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import { reconcileQueue } from "@/server/jobs/reconcile-queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as jobRoute from "@/app/api/v1/jobs/[jobId]/route";
import * as cancelRoute from "@/app/api/v1/jobs/[jobId]/cancel/route";
import * as retryRoute from "@/app/api/v1/jobs/[jobId]/retry/route";
import * as metricsRoute from "@/app/api/v1/jobs/[jobId]/metrics/route";
import * as logsRoute from "@/app/api/v1/jobs/[jobId]/logs/route";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";

const CONFIG = { model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 3 } };
let owner: Awaited<ReturnType<typeof createUser>>;
let member: Awaited<ReturnType<typeof createUser>>;
let otherMember: Awaited<ReturnType<typeof createUser>>;
let viewer: Awaited<ReturnType<typeof createUser>>;
let projectId: string;

beforeAll(async () => {
  [owner, member, otherMember, viewer] = await Promise.all([createUser(), createUser(), createUser(), createUser()]);
  const team = await createTeamWith([
    { userId: owner.id, role: "OWNER" },
    { userId: member.id, role: "MEMBER" },
    { userId: otherMember.id, role: "MEMBER" },
    { userId: viewer.id, role: "VIEWER" },
  ]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "P", slug: "p" } })).id;
});

afterAll(async () => {
  await trainingQueue.obliterate({ force: true });
});

/** Another project of the team, for listings that must not see the other tests' jobs. */
async function siblingProject(name: string, slug: string) {
  const { teamId } = await db.project.findUniqueOrThrow({ where: { id: projectId } });
  return (await db.project.create({ data: { teamId, name, slug } })).id;
}

async function submit(user: { id: string }, body: unknown) {
  return call(jobsRoute.POST, { cookie: await sessionCookie(user), params: { projectId }, body });
}

describe("submitting jobs", () => {
  it("stores the resolved config and a queue entry whose id is the row id, with its priority", async () => {
    const res = await submit(member, { name: "first", priority: "high", config: CONFIG });
    expect(res.status).toBe(201);
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: res.body.job.id } });
    expect(row).toMatchObject({ status: "QUEUED", priority: "HIGH", model: "yolo11n.pt", task: "detect", totalEpochs: 3 });
    expect((row.config as { train: { imgsz: number; batch: number } }).train).toMatchObject({ imgsz: 640, batch: 16, epochs: 3 });
    const entry = await trainingQueue.getJob(row.id);
    expect(entry).toMatchObject({ id: row.id, name: "train", data: { jobId: row.id } });
    expect(entry!.opts.priority).toBe(1);
  });

  it("accepts the old service's config.yaml as a YAML body, and never stores its secrets", async () => {
    const yaml = [
      'model: "yolov8n-seg.pt"',
      'type: "yolo"',
      'task_id: "session_7"',
      "train:",
      '  data: "seg/data.yaml"',
      "  epochs: 2",
      "  batch: -1",
      "minio:",
      '  MINIO_SECRET_KEY: "hunter2-secret"',
      "sweeper:",
      "  tune: false",
    ].join("\n");
    const req = new Request("http://localhost/api", {
      method: "POST",
      headers: { "content-type": "application/yaml", cookie: await sessionCookie(member), origin: "http://localhost:3000" },
      body: yaml,
    });
    const res = await jobsRoute.POST(req, { params: Promise.resolve({ projectId }) });
    const body = await res.json();
    expect(res.status).toBe(201);
    expect(body.job).toMatchObject({ name: "session_7", task: "segment" });
    expect(body.warnings[0]).toContain("`minio` was ignored");
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: body.job.id } });
    expect(JSON.stringify(row)).not.toContain("hunter2-secret");
    expect(JSON.stringify((await trainingQueue.getJob(row.id))!.data)).not.toContain("hunter2");
  });

  it("answers 422 with field messages naming the closest valid keys, and writes nothing", async () => {
    const before = await db.trainingJob.count();
    const res = await submit(member, { config: { model: "yolo11n.pt", train: { data: "d.yaml", epoch: 5, imgsz: 100, batch: 0 } } });
    expect(res.status).toBe(422);
    expect(res.body.error.fields["config.train.epoch"][0]).toContain("did you mean `epochs`");
    expect(res.body.error.fields["config.train.imgsz"]).toEqual(["Must be a multiple of 32"]);
    expect(res.body.error.fields["config.train.batch"]).toBeDefined();
    const yamlErr = await submit(member, { config: "model: [oops" });
    expect(yamlErr.status).toBe(422);
    expect(yamlErr.body.error.fields.config[0]).toMatch(/Not valid YAML/);
    expect(await db.trainingJob.count()).toBe(before);
  });

  it("refuses a VIEWER (403) and another team's user (404)", async () => {
    expect((await submit(viewer, { config: CONFIG })).status).toBe(403);
    const stranger = await createUser();
    expect((await submit(stranger, { config: CONFIG })).status).toBe(404);
  });
});

describe("reading, cancelling and retrying", () => {
  it("lists with cursor pagination, filters by status and creator, and hides the project from strangers", async () => {
    const p2 = await siblingProject("Paged", "paged");
    const cookie = await sessionCookie(member);
    for (let i = 0; i < 5; i++)
      expect((await call(jobsRoute.POST, { cookie, params: { projectId: p2 }, body: { name: `job ${i}`, config: CONFIG } })).status).toBe(
        201,
      );
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url = `http://localhost/api?limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const res = await jobsRoute.GET(new Request(url, { headers: { cookie } }), { params: Promise.resolve({ projectId: p2 }) });
      const body = await res.json();
      seen.push(...body.jobs.map((j: { name: string }) => j.name));
      cursor = body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(["job 4", "job 3", "job 2", "job 1", "job 0"]);

    const byStatus = await jobsRoute.GET(new Request(`http://localhost/api?status=FAILED`, { headers: { cookie } }), {
      params: Promise.resolve({ projectId: p2 }),
    });
    expect((await byStatus.json()).jobs).toEqual([]);
    const byCreator = await jobsRoute.GET(new Request(`http://localhost/api?creatorId=${owner.id}`, { headers: { cookie } }), {
      params: Promise.resolve({ projectId: p2 }),
    });
    expect((await byCreator.json()).jobs).toEqual([]);
    const bad = await jobsRoute.GET(new Request(`http://localhost/api?status=NOPE&limit=0`, { headers: { cookie } }), {
      params: Promise.resolve({ projectId: p2 }),
    });
    expect(bad.status).toBe(422);
    const stranger = await createUser();
    const hidden = await jobsRoute.GET(new Request(`http://localhost/api`, { headers: { cookie: await sessionCookie(stranger) } }), {
      params: Promise.resolve({ projectId: p2 }),
    });
    expect(hidden.status).toBe(404);
  });

  it("lets a MEMBER cancel their own job but not another member's; an ADMIN/OWNER cancels any", async () => {
    const mine = (await submit(member, { config: CONFIG })).body.job.id;
    const theirs = (await submit(otherMember, { config: CONFIG })).body.job.id;
    const cookie = await sessionCookie(member);
    expect((await call(cancelRoute.POST, { cookie, params: { jobId: theirs } })).status).toBe(403);
    expect((await call(cancelRoute.POST, { cookie: await sessionCookie(viewer), params: { jobId: mine } })).status).toBe(403);
    expect((await call(cancelRoute.POST, { cookie, params: { jobId: mine } })).body.job.status).toBe("CANCELLED");
    expect((await call(cancelRoute.POST, { cookie: await sessionCookie(owner), params: { jobId: theirs } })).body.job.status).toBe(
      "CANCELLED",
    );
    expect((await call(cancelRoute.POST, { cookie, params: { jobId: mine } })).status).toBe(409);
  });

  it("retries an ended job as a new job with the same config", async () => {
    const first = (await submit(member, { name: "to retry", priority: "low", config: CONFIG })).body.job.id;
    const cookie = await sessionCookie(member);
    expect((await call(retryRoute.POST, { cookie, params: { jobId: first } })).status).toBe(409);
    await call(cancelRoute.POST, { cookie, params: { jobId: first } });
    const res = await call(retryRoute.POST, { cookie, params: { jobId: first } });
    expect(res.status).toBe(201);
    expect(res.body.job).toMatchObject({ name: "to retry (retry)", priority: "low", status: "QUEUED" });
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: res.body.job.id } });
    expect(row.retryOfId).toBe(first);
    expect(row.config).toEqual((await db.trainingJob.findUniqueOrThrow({ where: { id: first } })).config);
    expect((await call(retryRoute.POST, { cookie: await sessionCookie(viewer), params: { jobId: first } })).status).toBe(403);
  });

  it("filters sweeps' trials in or out (or alone, or one sweep's), counts them on the first page, and names their sweep", async () => {
    const p3 = await siblingProject("Trials", "trials");
    const cookie = await sessionCookie(member);
    const plain = (await call(jobsRoute.POST, { cookie, params: { projectId: p3 }, body: { name: "plain", config: CONFIG } })).body.job.id;
    const sweeps = await Promise.all(
      ["tune lr", "tune batch"].map((name) =>
        db.sweep.create({ data: { projectId: p3, createdById: member.id, name, config: CONFIG, settings: {}, nTrials: 2, parallel: 1 } }),
      ),
    );
    const trialIds: string[] = [];
    for (const [i, sweep] of sweeps.entries())
      for (const n of i === 0 ? [0, 1] : [0]) {
        const status = n === 1 ? "FAILED" : "SUCCEEDED";
        const data = {
          projectId: p3,
          createdById: member.id,
          name: `${sweep.name} #${n}`,
          config: CONFIG,
          status,
          model: "yolo11n.pt",
        } as const;
        trialIds.push((await db.trainingJob.create({ data: { ...data, sweepId: sweep.id, trialNumber: n } })).id);
      }
    const list = async (q: string) => {
      const res = await jobsRoute.GET(new Request(`http://localhost/api?${q}`, { headers: { cookie } }), {
        params: Promise.resolve({ projectId: p3 }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as {
        jobs: { id: string; sweepId: string | null; trialNumber: number | null; sweep: unknown }[];
        trialCount: number | null;
      };
    };

    const all = await list("");
    expect(all.jobs).toHaveLength(4);
    expect(all.trialCount).toBe(3);
    expect(all.jobs.find((j) => j.id === plain)).toMatchObject({ sweepId: null, trialNumber: null, sweep: null });
    expect(all.jobs.find((j) => j.id === trialIds[1])).toMatchObject({
      sweepId: sweeps[0]!.id,
      trialNumber: 1,
      sweep: { id: sweeps[0]!.id, name: "tune lr" },
    });
    const exclude = await list("trials=exclude");
    expect(exclude.jobs.map((j) => j.id)).toEqual([plain]);
    expect(exclude.trialCount).toBe(3);
    expect((await list("trials=only")).jobs.map((j) => j.id).sort()).toEqual([...trialIds].sort());
    const oneSweep = await list(`sweepId=${sweeps[0]!.id}&sort=name_asc`);
    expect(oneSweep.jobs.map((j) => j.trialNumber)).toEqual([0, 1]);
    expect(oneSweep.trialCount).toBe(2);
    expect((await list(`sweepId=${sweeps[0]!.id}&trials=exclude`)).jobs).toEqual([]);
    // The count follows the other filters; later pages do not count again.
    expect((await list("trials=exclude&status=FAILED")).trialCount).toBe(1);
    const first = await list("limit=1");
    expect(first.trialCount).toBe(3);
    expect((await list(`limit=1&cursor=${first.jobs[0]!.id}`)).trialCount).toBeNull();

    const bad = await jobsRoute.GET(new Request(`http://localhost/api?trials=some`, { headers: { cookie } }), {
      params: Promise.resolve({ projectId: p3 }),
    });
    expect(bad.status).toBe(422);
  });

  it("refuses to retry a sweep's trial (409) and shows a trial's place in its sweep on the job", async () => {
    const sweep = await db.sweep.create({
      data: { projectId, createdById: member.id, name: "retry sweep", config: CONFIG, settings: {}, nTrials: 1, parallel: 1 },
    });
    const base = { projectId, createdById: member.id, config: CONFIG, model: "yolo11n.pt", sweepId: sweep.id } as const;
    const pruned = await db.trainingJob.create({
      data: { ...base, name: "retry sweep #0", status: "SUCCEEDED", trialNumber: 0, trialState: "PRUNED", prunedAtEpoch: 2 },
    });
    const lost = await db.trainingJob.create({
      data: { ...base, name: "retry sweep #1", status: "FAILED", trialNumber: 1, failureClass: WORKER_LOST_FAILURE, trialState: "FAIL" },
    });
    const cookie = await sessionCookie(member);
    const before = await db.trainingJob.count();
    for (const id of [pruned.id, lost.id]) {
      const res = await call(retryRoute.POST, { cookie, params: { jobId: id } });
      expect(res.status).toBe(409);
      expect(res.body.error.message).toBe("A sweep's trial is not retried; add trials to the sweep instead");
    }
    expect(await db.trainingJob.count()).toBe(before);
    expect((await db.trainingJob.findUniqueOrThrow({ where: { id: lost.id } })).status).toBe("FAILED");
    // A VIEWER is still told it may not (403), not that the job is a trial.
    expect((await call(retryRoute.POST, { cookie: await sessionCookie(viewer), params: { jobId: pruned.id } })).status).toBe(403);

    const detail = await call(jobRoute.GET, { cookie, params: { jobId: pruned.id } });
    expect(detail.body.job).toMatchObject({
      sweepId: sweep.id,
      trialNumber: 0,
      sweep: { id: sweep.id, name: "retry sweep" },
      trialState: "PRUNED",
      trialValue: null,
      prunedAtEpoch: 2,
    });
  });

  it("serves a job, its metrics and its logs to readers only", async () => {
    const id = (await submit(member, { config: CONFIG })).body.job.id;
    await db.jobEpoch.create({
      data: { jobId: id, epoch: 1, losses: { "train/box_loss": 1 }, metrics: { "metrics/mAP50(B)": 0.5 }, lr: { "lr/pg0": 0.01 } },
    });
    await db.jobLog.createMany({ data: [1, 2, 3].map((seq) => ({ jobId: id, seq, stream: "stdout", line: `line ${seq}` })) });
    const cookie = await sessionCookie(viewer);
    const job = await call(jobRoute.GET, { cookie, params: { jobId: id } });
    expect(job.body.job.id).toBe(id);
    expect(job.body.permissions).toEqual({ cancel: false, create: false });
    expect(job.body.mlflow).toEqual({ uiUrl: null });
    expect(job.body.job).toMatchObject({
      mlflowRunId: null,
      trackingDelayed: false,
      sweepId: null,
      trialNumber: null,
      sweep: null,
      trialState: null,
    });
    expect(job.body.events.map((e: { kind: string }) => e.kind)).toEqual(["queued"]);
    expect((await call(metricsRoute.GET, { cookie, params: { jobId: id } })).body.epochs[0].metrics["metrics/mAP50(B)"]).toBe(0.5);
    const logs = await logsRoute.GET(new Request("http://localhost/api?after=1", { headers: { cookie } }), {
      params: Promise.resolve({ jobId: id }),
    });
    expect((await logs.json()).lines.map((l: { line: string }) => l.line)).toEqual(["line 2", "line 3"]);
    const stranger = await sessionCookie(await createUser());
    expect((await call(jobRoute.GET, { cookie: stranger, params: { jobId: id } })).status).toBe(404);
    expect((await call(metricsRoute.GET, { cookie: stranger, params: { jobId: id } })).status).toBe(404);
  });
});

describe("queue reconciliation", () => {
  it("re-adds the queue entry of an old QUEUED row that has none, and leaves fresh rows alone", async () => {
    const orphan = await db.trainingJob.create({
      data: {
        projectId,
        createdById: member.id,
        name: "orphan",
        config: CONFIG,
        model: "yolo11n.pt",
        totalEpochs: 3,
        createdAt: new Date(Date.now() - 120_000),
      },
    });
    const fresh = await db.trainingJob.create({
      data: { projectId, createdById: member.id, name: "fresh", config: CONFIG, model: "yolo11n.pt", totalEpochs: 3 },
    });
    const { requeued } = await reconcileQueue({ graceMs: 30_000 });
    expect(requeued).toContain(orphan.id);
    expect(requeued).not.toContain(fresh.id);
    expect(await trainingQueue.getJobState(orphan.id)).not.toBe("unknown");
    expect((await reconcileQueue({ graceMs: 30_000 })).requeued).not.toContain(orphan.id);
  });

  it("Cancel and Retry of a RUNNING row without a queue entry answer 409 while its worker was heard from lately, and act once it is silent", async () => {
    // As right after Redis lost the entry: the worker may still run its trainer until its lock lapses.
    const running = await db.trainingJob.create({
      data: {
        projectId,
        createdById: member.id,
        name: "entry lost",
        config: CONFIG,
        model: "yolo11n.pt",
        totalEpochs: 3,
        status: "RUNNING",
        heartbeatAt: new Date(Date.now() - 5_000),
      },
    });
    expect(await trainingQueue.getJobState(running.id)).toBe("unknown");
    const cookie = await sessionCookie(member);
    for (const route of [cancelRoute, retryRoute]) {
      const res = await call(route.POST, { cookie, params: { jobId: running.id } });
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.body.error.message).toMatch(/its worker may still be running it; try again in (2[5-9]|30) s/);
    }
    expect(await db.trainingJob.findUniqueOrThrow({ where: { id: running.id } })).toMatchObject({
      status: "RUNNING",
      cancelRequestedAt: null,
    });
    expect((await reconcileQueue({ graceMs: 30_000 })).requeued).not.toContain(running.id);
    expect(await trainingQueue.getJobState(running.id)).toBe("unknown");

    // Silent for longer than the lock duration and the heartbeat interval (here: backdated): the run is dead.
    await db.$executeRaw`UPDATE "TrainingJob" SET "heartbeatAt" = now() - interval '31 seconds' WHERE id = ${running.id}`;
    const retried = await call(retryRoute.POST, { cookie, params: { jobId: running.id } });
    expect(retried.status, JSON.stringify(retried.body)).toBe(201);
    expect(retried.body.job).toMatchObject({ id: running.id, status: "QUEUED" });
    expect(["waiting", "prioritized"]).toContain(await trainingQueue.getJobState(running.id));
  });

  it("fails an active row, training or export, whose queue entry the queue gave up on", async () => {
    const stuck = await db.trainingJob.create({
      data: { projectId, createdById: member.id, name: "stuck", config: CONFIG, model: "yolo11n.pt", totalEpochs: 3, status: "RUNNING" },
    });
    const exp = await db.modelExport.create({
      data: {
        id: `exp${stuck.id}`,
        jobId: stuck.id,
        format: "onnx",
        options: { format: "onnx" },
        variant: "onnx",
        createdById: member.id,
        status: "RUNNING",
      },
    });
    // Their queue entries end up failed for good (as when a worker is lost more often than allowed).
    const { Worker, UnrecoverableError } = await import("bullmq");
    for (const id of [stuck.id, exp.id]) await trainingQueue.add(id === exp.id ? "export" : "train", {}, { jobId: id });
    const { redis } = await import("@/server/redis");
    const gaveUp = new Worker(
      trainingQueue.name,
      async () => {
        throw new UnrecoverableError("job stalled more than allowable limit");
      },
      { connection: redis.duplicate({ maxRetriesPerRequest: null }) },
    );
    await expect
      .poll(async () => [await trainingQueue.getJobState(stuck.id), await trainingQueue.getJobState(exp.id)], { timeout: 10_000 })
      .toEqual(["failed", "failed"]);
    await gaveUp.close();
    // Rows untouched for a while (the worker that held them stopped writing).
    await db.$executeRaw`UPDATE "TrainingJob" SET "updatedAt" = now() - interval '2 minutes' WHERE id = ${stuck.id}`;
    await db.$executeRaw`UPDATE "ModelExport" SET "updatedAt" = now() - interval '2 minutes' WHERE id = ${exp.id}`;
    const { failed } = await reconcileQueue({ graceMs: 30_000 });
    expect(failed.sort()).toEqual([stuck.id, exp.id].sort());
    const job = await db.trainingJob.findUniqueOrThrow({ where: { id: stuck.id } });
    expect(job).toMatchObject({ status: "FAILED", failureReason: "The queue gave up on it: job stalled more than allowable limit" });
    expect((await db.jobEvent.findFirstOrThrow({ where: { jobId: stuck.id }, orderBy: { createdAt: "desc" } })).kind).toBe("failed");
    expect(await db.modelExport.findUniqueOrThrow({ where: { id: exp.id } })).toMatchObject({
      status: "FAILED",
      failureReason: "The queue gave up on it: job stalled more than allowable limit",
    });
    expect((await reconcileQueue({ graceMs: 30_000 })).failed).toEqual([]);
  });
});
