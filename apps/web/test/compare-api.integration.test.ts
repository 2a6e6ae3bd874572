import { beforeAll, describe, expect, it } from "vitest";
import type { CompareAnswer, LeaderboardAnswer } from "@wyolo/contracts";
import { db } from "@/server/db";
import * as compareRoute from "@/app/api/v1/teams/[teamId]/compare/route";
import * as leaderboardRoute from "@/app/api/v1/projects/[projectId]/leaderboard/route";
import { call, createTeamWith, createUser, sessionCookie } from "../../../test/integration/helpers";
import { createTestToken } from "./tokens-helper";

type User = Awaited<ReturnType<typeof createUser>>;
let owner: User, viewer: User, outsider: User;
let teamId: string, otherTeamId: string;
let projectId: string, secondProjectId: string, otherProjectId: string;

const HOUR = 3_600_000;
const CLASSES = [{ id: 0, name: "circle", images: 4, instances: 6, box: { p: 0.9, r: 0.8, map50: 0.85, map50_95: 0.6 } }];

/**
 * A job with `epochs` recorded: mAP50-95 rising to `peak` (times `shape(epoch)`), val/box_loss falling; its
 * best epoch stored as `bestEpoch` when given. Options go straight into the row.
 */
async function job(
  project: string,
  name: string,
  opts: {
    status?: "SUCCEEDED" | "FAILED" | "RUNNING";
    train?: Record<string, unknown>;
    gpus?: number;
    epochs?: number;
    peak?: number;
    bestEpoch?: number;
    hours?: number;
    classMetrics?: object;
    extraMetrics?: number;
  } = {},
) {
  const epochs = opts.epochs ?? 3;
  const peak = opts.peak ?? 0.5;
  const started = new Date(Date.now() - 10 * HOUR);
  const row = await db.trainingJob.create({
    data: {
      projectId: project,
      createdById: owner.id,
      name,
      status: opts.status ?? "SUCCEEDED",
      model: "yolo11n.pt",
      config: {
        model: "yolo11n.pt",
        task: "detect",
        ...(opts.gpus !== undefined ? { gpus: opts.gpus } : {}),
        train: { data: "shapes/data.yaml", epochs, imgsz: 320, batch: 16, lr0: 0.01, optimizer: "SGD", ...opts.train },
      },
      totalEpochs: epochs,
      ...(opts.bestEpoch ? { bestEpoch: opts.bestEpoch, bestMetric: peak, bestMetricName: "metrics/mAP50-95(B)" } : {}),
      startedAt: started,
      finishedAt: opts.status === "RUNNING" ? null : new Date(started.getTime() + (opts.hours ?? 1) * HOUR),
      ...(opts.classMetrics ? { classMetrics: opts.classMetrics } : {}),
    },
    select: { id: true },
  });
  const extra = (epoch: number) =>
    Object.fromEntries(Array.from({ length: opts.extraMetrics ?? 0 }, (_, i) => [`metrics/extra${i}`, epoch / (i + 1)]));
  await db.jobEpoch.createMany({
    data: Array.from({ length: epochs }, (_, i) => i + 1).map((epoch) => ({
      jobId: row.id,
      epoch,
      losses: { "train/box_loss": 2 / epoch },
      metrics: { "metrics/mAP50-95(B)": (peak * epoch) / epochs, "val/box_loss": (2 + peak) / epoch, ...extra(epoch) },
      lr: { "lr/pg0": 0.01 / epoch },
    })),
  });
  return row.id;
}

async function gpuSample(jobId: string, gpus: number) {
  await db.jobResourceSample.create({
    data: {
      jobId,
      at: new Date(),
      gpuUtil: 50,
      gpus: Array.from({ length: gpus }, (_, index) => ({ index, util: 50, memUsedMb: 1, memTotalMb: 2 })),
    },
  });
}

const compare = async (user: User, ids: string[], team = teamId) =>
  call(compareRoute.GET, { cookie: await sessionCookie(user), params: { teamId: team }, query: `jobs=${ids.join(",")}` });
const leaderboard = async (user: User, query = "", project = projectId) =>
  call(leaderboardRoute.GET, { cookie: await sessionCookie(user), params: { projectId: project }, query });

beforeAll(async () => {
  [owner, viewer, outsider] = await Promise.all([createUser(), createUser(), createUser()]);
  teamId = (
    await createTeamWith([
      { userId: owner.id, role: "OWNER" },
      { userId: viewer.id, role: "VIEWER" },
    ])
  ).id;
  otherTeamId = (await createTeamWith([{ userId: outsider.id, role: "OWNER" }])).id;
  projectId = (await db.project.create({ data: { teamId, name: "P", slug: "p" } })).id;
  secondProjectId = (await db.project.create({ data: { teamId, name: "Second", slug: "second" } })).id;
  otherProjectId = (await db.project.create({ data: { teamId: otherTeamId, name: "O", slug: "o" } })).id;
});

describe("GET /teams/{teamId}/compare", () => {
  it("compares jobs across the team's projects: overlaid series, differing params, final and best, per-class, GPU-hours", async () => {
    const a = await job(projectId, "low lr", { train: { lr0: 0.001 }, peak: 0.4, bestEpoch: 2, hours: 2, classMetrics: CLASSES });
    const b = await job(secondProjectId, "high lr", { train: { lr0: 0.02, imgsz: 640 }, peak: 0.6, epochs: 4, gpus: 0 });
    const c = await job(projectId, "two gpus", { peak: 0.5, hours: 1.5 });
    await gpuSample(a, 1);
    await gpuSample(c, 2);

    const res = await compare(viewer, [b, a, c]);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as CompareAnswer;
    expect(body.jobs.map((j) => j.id)).toEqual([b, a, c]); // the order asked for
    const [jb, ja, jc] = body.jobs;
    expect(jb!.project).toEqual({ id: secondProjectId, name: "Second", slug: "second" });
    expect(ja!.dataset).toBe("shapes/data.yaml");
    // GPUs: samples win (a: 1, c: 2), else the config's `gpus` (b: 0 = CPU).
    expect([ja!.gpus, jb!.gpus, jc!.gpus]).toEqual([1, 0, 2]);
    expect(ja!.gpuHours).toBeCloseTo(2);
    expect(jb!.gpuHours).toBe(0);
    expect(jc!.gpuHours).toBeCloseTo(3);
    expect(ja!.durationSeconds).toBeCloseTo(7200);
    // Best: the stored best epoch (a: 2 of 3), else computed from the epochs (b: the last, rising curve).
    expect(ja!.best).toEqual({ name: "metrics/mAP50-95(B)", value: 0.4, epoch: 2 });
    expect(jb!.best).toMatchObject({ name: "metrics/mAP50-95(B)", epoch: 4 });
    expect(jb!.best!.value).toBeCloseTo(0.6);
    expect([ja!.epochs, jb!.epochs]).toEqual([3, 4]);

    expect(body.differing).toEqual(["epochs", "gpus", "imgsz", "lr0"]);
    expect(body.params[a]).toMatchObject({ model: "yolo11n.pt", task: "detect", lr0: 0.001, imgsz: 320, data: "shapes/data.yaml" });
    expect(body.params[b]).toMatchObject({ lr0: 0.02, imgsz: 640, gpus: 0 });

    const map = body.series["metrics/mAP50-95(B)"]!;
    expect(map[a]!.map(([e]) => e)).toEqual([1, 2, 3]);
    expect(map[b]!.map(([e]) => e)).toEqual([1, 2, 3, 4]);
    expect(map[b]![3]![1]).toBeCloseTo(0.6);
    expect(Object.keys(body.series).sort()).toEqual(["lr/pg0", "metrics/mAP50-95(B)", "train/box_loss", "val/box_loss"]);
    expect(body.final[a]!["val/box_loss"]).toBeCloseTo(2.4 / 3);
    expect(body.best[a]!["metrics/mAP50-95(B)"]).toBeCloseTo((0.4 * 2) / 3);
    expect(body.best[a]!["val/box_loss"]).toBeCloseTo(2.4 / 2);
    expect(body.classMetrics[a]).toEqual(CLASSES);
    expect(body.classMetrics[b]).toBeNull();
  });

  it("a job without epochs, still running, compares with empty series and no best; duplicates count once", async () => {
    const fresh = await job(projectId, "fresh", { status: "RUNNING", epochs: 0 });
    const done = await job(projectId, "done");
    const res = await compare(owner, [fresh, done, fresh]);
    expect(res.status).toBe(200);
    const body = res.body as CompareAnswer;
    expect(body.jobs.map((j) => j.id)).toEqual([fresh, done]);
    expect(body.jobs[0]).toMatchObject({ status: "RUNNING", best: null, epochs: 0, finishedAt: null });
    expect(body.jobs[0]!.durationSeconds).toBeGreaterThan(9 * 3600); // to now while it runs
    expect(body.final[fresh]).toEqual({});
    expect(body.series["metrics/mAP50-95(B)"]![fresh]).toBeUndefined();
  });

  it("another team's job, an unknown id, another team or a non-member: 404 naming no job", async () => {
    const mine = await job(projectId, "mine");
    const theirs = await job(otherProjectId, "theirs");
    for (const ids of [
      [mine, theirs],
      [mine, "c0000000000000000000000"],
    ]) {
      const res = await compare(owner, ids);
      expect(res.status).toBe(404);
      expect(JSON.stringify(res.body)).not.toContain(ids[1]);
      expect(JSON.stringify(res.body)).not.toContain(mine);
    }
    // The other team's owner, through their own team or ours: not found either way.
    expect((await compare(outsider, [mine, theirs], otherTeamId)).status).toBe(404);
    expect((await compare(outsider, [mine, theirs])).status).toBe(404);
    // A token narrowed to the other team does not see this one.
    const token = await createTestToken({ userId: owner.id, teamId: otherTeamId, scopes: ["read"] });
    const viaToken = await call(compareRoute.GET, {
      headers: { authorization: token.authorization },
      params: { teamId },
      query: `jobs=${mine},${mine}x`,
    });
    expect(viaToken.status).toBe(404);
  });

  it("bad selections answer 422 with a message on `jobs`", async () => {
    const one = await job(projectId, "one");
    const cases = [
      "",
      `jobs=${one}`,
      `jobs=${one},${one}`,
      `jobs=${one},bad%20id`,
      `jobs=${Array.from({ length: 21 }, (_, i) => `j${i}`).join(",")}`,
    ];
    for (const query of cases) {
      const res = await call(compareRoute.GET, { cookie: await sessionCookie(owner), params: { teamId }, query });
      expect(res.status, query).toBe(422);
      expect(res.body.error.fields.jobs, query).toBeDefined();
    }
  });

  it("10 jobs × 300 epochs × 20 metrics answer whole, in epoch order", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) ids.push(await job(secondProjectId, `big ${i}`, { epochs: 300, extraMetrics: 16, peak: 0.3 + i / 100 }));
    const times: number[] = [];
    let res = { status: 0, body: null as unknown };
    for (let i = 0; i < 4; i++) {
      const started = performance.now();
      res = await compare(owner, ids);
      times.push(performance.now() - started);
    }
    expect(res.status).toBe(200);
    const body = res.body as CompareAnswer;
    expect(Object.keys(body.series)).toHaveLength(20);
    for (const perJob of Object.values(body.series)) {
      expect(Object.keys(perJob)).toHaveLength(10);
      for (const points of Object.values(perJob)) expect(points.map(([e]) => e)).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
    }
    console.log(
      `compare of 10 jobs × 300 epochs × 20 metrics, in-process: ${times.map(Math.round).join(", ")} ms (bench/compare.ts measures p50/p99)`,
    );
  });
});

describe("GET /projects/{projectId}/leaderboard", () => {
  let lbProject: string;
  let ids: Record<string, string>;
  beforeAll(async () => {
    lbProject = (await db.project.create({ data: { teamId, name: "LB", slug: "lb" } })).id;
    ids = {
      mid: await job(lbProject, "mid", { peak: 0.5, bestEpoch: 3, train: { lr0: 0.005, optimizer: "AdamW" } }),
      top: await job(lbProject, "top", { peak: 0.7, bestEpoch: 3, gpus: 1, hours: 2 }),
      // Its best epoch is the 2nd: ranked at that epoch's values, not the last one's.
      early: await job(lbProject, "early", { peak: 0.9, bestEpoch: 2, epochs: 3 }),
      failed: await job(lbProject, "failed", { status: "FAILED", peak: 0.99 }),
      running: await job(lbProject, "running", { status: "RUNNING", peak: 0.99 }),
    };
    await gpuSample(ids.early!, 4);
  });

  it("ranks finished jobs by the headline metric at their best epoch, with key args, duration and GPU-hours", async () => {
    const res = await leaderboard(viewer, "", lbProject);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const body = res.body as LeaderboardAnswer;
    expect(body).toMatchObject({ metric: "metrics/mAP50-95(B)", order: "desc", total: 3 });
    expect(body.metrics).toEqual(["lr/pg0", "metrics/mAP50-95(B)", "train/box_loss", "val/box_loss"]);
    expect(body.rows.map((r) => r.name)).toEqual(["top", "early", "mid"]);
    const [first, second, third] = body.rows;
    // top: 0.7 at epoch 3; early: 0.9 × 2/3 = 0.6 at epoch 2; mid: 0.5.
    expect(first).toMatchObject({ rank: 1, name: "top", epoch: 3, gpus: 1 });
    expect(first!.value).toBeCloseTo(0.7);
    expect(first!.gpuHours).toBeCloseTo(2);
    expect(second).toMatchObject({ rank: 2, name: "early", epoch: 2, gpus: 4 });
    expect(second!.value).toBeCloseTo(0.6);
    expect(second!.gpuHours).toBeCloseTo(4);
    expect(third).toMatchObject({ rank: 3, name: "mid", gpus: null, gpuHours: null });
    expect(third!.args).toEqual({ epochs: 3, imgsz: 320, batch: 16, lr0: 0.005, optimizer: "AdamW" });
    expect(third!.durationSeconds).toBeCloseTo(3600);
  });

  it("losses rank ascending; limit cuts the list, not the total", async () => {
    const res = await leaderboard(owner, "metric=val%2Fbox_loss&limit=2", lbProject);
    expect(res.status).toBe(200);
    const body = res.body as LeaderboardAnswer;
    expect(body).toMatchObject({ metric: "val/box_loss", order: "asc", total: 3 });
    // val/box_loss = (2 + peak) / epoch: mid (2.5/3) < top (2.7/3) < early (2.9/2).
    expect(body.rows.map((r) => r.name)).toEqual(["mid", "top"]);
  });

  it("a metric no finished job recorded: 422 naming those that were; bad limit: 422; other team: 404", async () => {
    const res = await leaderboard(owner, "metric=metrics%2FmAP75", lbProject);
    expect(res.status).toBe(422);
    expect(res.body.error.fields.metric[0]).toContain("metrics/mAP50-95(B)");
    expect((await leaderboard(owner, "limit=0", lbProject)).status).toBe(422);
    expect((await leaderboard(owner, "limit=abc", lbProject)).status).toBe(422);
    expect((await leaderboard(outsider, "", lbProject)).status).toBe(404);
  });

  it("a project without finished jobs answers an empty board", async () => {
    const empty = (await db.project.create({ data: { teamId, name: "E", slug: "e" } })).id;
    const res = await leaderboard(owner, "metric=val%2Fbox_loss", empty);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ metric: "val/box_loss", order: "asc", metrics: [], total: 0, rows: [] });
  });
});
