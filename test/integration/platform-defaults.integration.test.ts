import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";

// Set before the web app's env is read (module load): the old service's .env, carried over.
const warn = vi.hoisted(() => {
  process.env.DEFAULT_EPOCHS = "7";
  process.env.DEFAULT_BATCH_SIZE = "-1";
  process.env.MINIO_ID = "old-id";
  return vi.spyOn(console, "warn").mockImplementation(() => {});
});

import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as sweepsRoute from "@/app/api/v1/projects/[projectId]/sweeps/route";
import * as jobRoute from "@/app/api/v1/jobs/[jobId]/route";
import * as defaultsRoute from "@/app/api/v1/config-defaults/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";

let cookie: string;
let projectId: string;

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Defaults", slug: "defaults" } })).id;
  cookie = await sessionCookie(member);
});

afterAll(async () => {
  await trainingQueue.obliterate({ force: true });
  delete process.env.MINIO_ID;
});

const postYaml = (handler: typeof jobsRoute.POST, yaml: string) =>
  call(handler, { cookie, params: { projectId }, rawBody: yaml, contentType: "application/yaml" });

describe("DEFAULT_EPOCHS / DEFAULT_BATCH_SIZE", () => {
  it("fill a config that leaves epochs and batch out, and the job says where they came from", async () => {
    const res = await postYaml(jobsRoute.POST, 'model: "yolov8n.pt"\ntrain:\n  data: "shapes/data.yaml"\n  imgsz: 64\n');
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.sources).toMatchObject({ "train.epochs": "DEFAULT_EPOCHS", "train.batch": "DEFAULT_BATCH_SIZE" });
    expect(res.body.job.totalEpochs).toBe(7);
    const row = await db.trainingJob.findUniqueOrThrow({ where: { id: res.body.job.id }, select: { config: true, configSources: true } });
    expect((row.config as { train: { epochs: number; batch: number } }).train).toMatchObject({ epochs: 7, batch: -1 });
    // The job's API answer shows them as defaults, not as values the user gave.
    const got = await call(jobRoute.GET, { cookie, params: { jobId: res.body.job.id } });
    expect(got.status).toBe(200);
    expect(got.body.job.configSources).toEqual(res.body.sources);
    expect(got.body.job.config.train).toMatchObject({ epochs: 7, batch: -1 });
  });

  it("leave values the config gives alone, and list neither", async () => {
    const res = await postYaml(jobsRoute.POST, "model: yolov8n.pt\ntrain:\n  data: shapes/data.yaml\n  epochs: 3\n  batch: 8\n");
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.job.totalEpochs).toBe(3);
    expect(res.body.sources).not.toHaveProperty(["train.epochs"]);
    expect(res.body.sources).not.toHaveProperty(["train.batch"]);
    const got = await call(jobRoute.GET, { cookie, params: { jobId: res.body.job.id } });
    expect(got.body.job.configSources).toEqual(res.body.sources);
    expect(got.body.job.config.train).toMatchObject({ epochs: 3, batch: 8 });
  });

  it("are what the submit form asks for, to show them and leave its fields empty", async () => {
    const res = await call(defaultsRoute.GET, { cookie });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ defaults: { epochs: 7, batch: -1 } });
    expect((await call(defaultsRoute.GET, {})).status).toBe(401);
  });

  it("apply to a sweep's base config too", async () => {
    const res = await postYaml(
      sweepsRoute.POST,
      "model: yolov8n.pt\ntrain:\n  data: shapes/data.yaml\n  batch: 4\nsweeper:\n  n_trials: 2\n",
    );
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.sources).toMatchObject({ "train.epochs": "DEFAULT_EPOCHS" });
    expect(res.body.sources).not.toHaveProperty(["train.batch"]);
    const sweep = await db.sweep.findUniqueOrThrow({ where: { id: res.body.sweep.id }, select: { config: true, configSources: true } });
    expect((sweep.config as { train: { epochs: number; batch: number } }).train).toMatchObject({ epochs: 7, batch: 4 });
    expect(sweep.configSources).toEqual(res.body.sources);
  });
});

describe("the old service's variables", () => {
  it("are named once when the web app reads its environment, with the Wyolo variable to set instead", async () => {
    await import("@/env");
    const said = warn.mock.calls.map((c) => String(c[0])).filter((m) => m.includes("is not used by Wyolo"));
    expect(said).toHaveLength(1);
    expect(said[0]).toContain("`MINIO_ID` is not used by Wyolo: set S3_ACCESS_KEY_ID");
  });
});
