import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowDouble } from "../mlflow/mlflow-double";
import { startS3rver } from "./s3rver";

// The model registry end to end: real worker processes (fake trainer), s3rver for best.pt, the
// MLflow double — stopped for real (its port closed) in the middle, then started again on the
// same port. Versions and aliases made while MLflow is away wait in the outbox, counted, and
// reach MLflow in order once it is back: nothing lost, nothing twice.
const s3 = await startS3rver();
Object.assign(process.env, s3.env);

const { db } = await import("@/server/db");
const { trainingQueue } = await import("@/server/queue");
const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
const projectRoute = await import("@/app/api/v1/projects/[projectId]/route");
const modelsRoute = await import("@/app/api/v1/projects/[projectId]/models/route");
const aliasRoute = await import("@/app/api/v1/projects/[projectId]/models/aliases/[alias]/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("./helpers");
const { startWorker, waitFor } = await import("./worker-harness");

const mlflow = new MlflowDouble();
let port = 0;
let worker: ReturnType<typeof startWorker>;
let adminCookie: string;
let memberCookie: string;
let projectId: string;
let modelName: string;

beforeAll(async () => {
  const url = await mlflow.start();
  port = Number(new URL(url).port);
  const admin = await createUser({ name: "Ada" });
  const member = await createUser({ name: "Max" });
  const team = await createTeamWith([
    { userId: admin.id, role: "ADMIN" },
    { userId: member.id, role: "MEMBER" },
  ]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Detector", slug: "detector" } })).id;
  modelName = `${team.slug}/detector`;
  adminCookie = await sessionCookie(admin);
  memberCookie = await sessionCookie(member);
  // A webhook subscribed to new versions: its outbox rows are written with the version (delivery is another test's).
  await db.webhook.create({
    data: {
      teamId: team.id,
      name: "models",
      kind: "GENERIC",
      urlEncrypted: "x",
      urlDisplay: "https://hooks.example.test/models",
      events: ["model.version_created"],
      createdById: admin.id,
    },
  });
  worker = startWorker("registry", { ...s3.env, MLFLOW_TRACKING_URI: url, MLFLOW_DELAYED_AFTER_MS: "300", MLFLOW_MAX_BACKOFF_MS: "400" });
  await worker.ready;
});

afterAll(async () => {
  await worker?.stop();
  await mlflow.stop();
  await trainingQueue.obliterate({ force: true });
  await s3.close();
});

async function train(name: string): Promise<string> {
  const res = await call(jobsRoute.POST, {
    cookie: memberCookie,
    params: { projectId },
    body: { name, config: { model: "yolo11n.yaml", train: { data: "shapes/data.yaml", epochs: 2 }, metadata: { fake: { delayMs: 20 } } } },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.job.id as string;
  await waitFor(async () => (await db.trainingJob.findUnique({ where: { id } }))?.status === "SUCCEEDED", 30_000, `${name} to succeed`);
  return id;
}
const models = async () => (await call(modelsRoute.GET, { cookie: memberCookie, params: { projectId } })).body;
const setAlias = (alias: string, version: number, cookie = adminCookie) =>
  call(aliasRoute.PUT, { method: "PUT", cookie, params: { projectId, alias }, body: { version } });
const pending = () => db.registryCall.count({ where: { model: { projectId } } });
const mirrored = () => waitFor(async () => (await pending()) === 0, 30_000, "the registry outbox to drain");

describe("model registry", () => {
  it("registers each succeeded job as a version with lineage and metrics, and mirrors versions and aliases to MLflow across an MLflow outage", async () => {
    const job1 = await train("first");
    const m1 = await models();
    expect(m1.model.name).toBe(modelName);
    expect(m1.versions).toHaveLength(1);
    const v1 = m1.versions[0];
    expect(v1).toMatchObject({ version: 1, job: { id: job1, status: "SUCCEEDED" }, bestMetricName: expect.any(String) });
    expect(v1.artifactId).toEqual(expect.any(String));
    expect(v1.lineage).toMatchObject({ jobId: job1, model: "yolo11n.yaml", task: "detect", epochs: 2, dataset: "shapes/data.yaml" });
    expect(v1.configHash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(v1.metrics).length).toBeGreaterThan(0);

    expect((await setAlias("champion", 1, memberCookie)).status).toBe(403); // model.alias: ADMIN+
    // Names outside MLflow's charset never reach the handler (the route wrapper's path check: 404); reserved and long ones get a field message.
    expect((await setAlias("Champion!", 1)).status).toBe(404);
    expect((await setAlias("latest", 1)).body.error.fields.alias).toEqual(["`latest` and v<number> are reserved by MLflow"]);
    expect((await setAlias("a".repeat(65), 1)).body.error.fields.alias).toEqual(["1–64 letters, digits, _ or -"]);
    expect((await setAlias("champion", 9)).body.error.fields.version).toEqual([`${modelName} has no version 9`]);
    expect((await setAlias("champion", 1)).status).toBe(200);
    await mirrored();
    const inMlflow = () => mlflow.models.get(modelName)!;
    const run1 = [...mlflow.runs.values()].find((r) => r.tags.get("wyolo.job_id") === job1)!;
    expect(inMlflow().versions).toHaveLength(1);
    expect(inMlflow().versions[0]).toMatchObject({ version: "1", run_id: run1.info.run_uuid, source: `${run1.info.artifact_uri}/weights` });
    expect(Object.fromEntries(inMlflow().versions[0]!.tags.map((t) => [t.key, t.value]))).toMatchObject({
      "wyolo.version_id": v1.id,
      "wyolo.job_id": job1,
      "wyolo.dataset": "shapes/data.yaml",
      "wyolo.config_hash": v1.configHash,
    });
    expect(inMlflow().aliases.get("champion")).toBe("1");
    expect((await models()).versions[0].mlflowVersion).toBe("1");

    // MLflow goes away for real: its port closes.
    await mlflow.stop();
    // An alias change while it is away is tried, refused by the closed port, and kept with its attempts and error.
    expect((await setAlias("staging", 1)).status).toBe(200);
    const tried = await waitFor(
      () =>
        db.registryCall.findFirst({ where: { model: { projectId }, kind: "set_alias", attempts: { gt: 0 }, lastError: { not: null } } }),
      20_000,
      "a failed attempt to be recorded",
    );
    expect(tried.lastError).toMatch(/fetch failed|ECONNREFUSED/);
    const job2 = await train("second");
    const job3 = await train("third");
    expect((await setAlias("champion", 3)).status).toBe(200);
    expect((await setAlias("staging", 2)).status).toBe(200);
    expect((await setAlias("old", 1)).status).toBe(200);
    expect((await call(aliasRoute.DELETE, { method: "DELETE", cookie: adminCookie, params: { projectId, alias: "old" } })).status).toBe(
      204,
    );
    const during = await models();
    expect(during.versions.map((v: { version: number }) => v.version)).toEqual([3, 2, 1]); // the in-app registry works without MLflow
    expect(during.aliases.map((a: { alias: string; version: number }) => [a.alias, a.version])).toEqual([
      ["champion", 3],
      ["staging", 2],
    ]);
    // Counted while away: every change waits, and the calls tried have their attempts and error.
    const waiting = await db.registryCall.findMany({ where: { model: { projectId } }, orderBy: { id: "asc" } });
    expect(waiting.map((c) => c.kind)).toEqual([
      "set_alias",
      "create_version",
      "create_version",
      "set_alias",
      "set_alias",
      "set_alias",
      "delete_alias",
    ]);
    expect(worker.output()).not.toMatch(/refused a registry call/);

    await mlflow.start(port);
    await mirrored();
    const m = inMlflow();
    const runs = [job1, job2, job3].map((id) => [...mlflow.runs.values()].find((r) => r.tags.get("wyolo.job_id") === id)!);
    expect(m.versions.map((v) => [v.version, v.run_id, v.source])).toEqual(
      runs.map((r, i) => [String(i + 1), r.info.run_uuid, `${r.info.artifact_uri}/weights`]),
    );
    expect(Object.fromEntries(m.aliases)).toEqual({ champion: "3", staging: "2" });
    const after = await models();
    expect(after.versions.map((v: { mlflowVersion: string }) => v.mlflowVersion)).toEqual(["3", "2", "1"]);
    expect(after.pendingMirrorCalls).toBe(0);
    // Nothing twice: exactly one create per version reached MLflow.
    const creates = mlflow.requests.filter((r) => r.path.endsWith("/model-versions/create"));
    expect(creates).toHaveLength(3);
    const hooks = await db.webhookDelivery.findMany({ where: { event: "model.version_created" }, select: { payload: true } });
    expect(hooks.map((h) => (h.payload as { model: { version: number } }).model.version).sort()).toEqual([1, 2, 3]);
  }, 240_000);

  it("renames the model in the app and in MLflow, and stops registering when the project says so", async () => {
    const renamed = `${modelName}-v2`;
    const bad = await call(projectRoute.PATCH, {
      method: "PATCH",
      cookie: adminCookie,
      params: { projectId },
      body: { modelName: "/bad" },
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.fields.modelName).toBeDefined();
    // Another team's prefix: refused, so no project can write into another team's model (here or in MLflow).
    const foreign = await call(projectRoute.PATCH, {
      method: "PATCH",
      cookie: adminCookie,
      params: { projectId },
      body: { modelName: "other-team/detector" },
    });
    expect(foreign.status).toBe(422);
    expect(foreign.body.error.fields.modelName[0]).toContain(`"${modelName.split("/")[0]}/"`);
    const ok = await call(projectRoute.PATCH, {
      method: "PATCH",
      cookie: adminCookie,
      params: { projectId },
      body: { modelName: renamed },
    });
    expect(ok.status, JSON.stringify(ok.body)).toBe(200);
    await mirrored();
    expect(mlflow.models.has(modelName)).toBe(false);
    expect(mlflow.models.get(renamed)!.versions).toHaveLength(3);

    const off = await call(projectRoute.PATCH, {
      method: "PATCH",
      cookie: adminCookie,
      params: { projectId },
      body: { registerModels: false },
    });
    expect(off.status).toBe(200);
    const job = await train("not registered");
    const m = await models();
    expect(m.settings).toEqual({ registerModels: false, modelName: renamed, effectiveName: renamed });
    expect(m.versions.some((v: { job: { id: string } }) => v.job?.id === job)).toBe(false);
    expect(m.versions).toHaveLength(3);
  }, 120_000);
});
