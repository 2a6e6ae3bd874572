import { createHash } from "node:crypto";
import { DeleteObjectCommand, GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MlflowDouble } from "../mlflow/mlflow-double";
import { startS3rver } from "./s3rver";

// Exports and MLflow artifact copies, with a real S3 server process (s3rver), real workers
// (fixture trainer and exporter) and the MLflow double.
const s3 = await startS3rver({ extraBuckets: ["mlflow-store"] });
const S3 = s3.env;
Object.assign(process.env, S3);

const { db } = await import("@/server/db");
const { redis } = await import("@/server/redis");
const { trainingQueue } = await import("@/server/queue");
const jobsRoute = await import("@/app/api/v1/projects/[projectId]/jobs/route");
const exportsRoute = await import("@/app/api/v1/jobs/[jobId]/exports/route");
const listRoute = await import("@/app/api/v1/jobs/[jobId]/artifacts/route");
const downloadRoute = await import("@/app/api/v1/jobs/[jobId]/artifacts/[artifactId]/download/route");
const { call, createTeamWith, createUser, sessionCookie } = await import("./helpers");
const { startWorker, waitFor } = await import("./worker-harness");

const mlflow = new MlflowDouble();
let mlflowUrl = "";
let memberCookie: string;
let viewerCookie: string;
let strangerCookie: string;
let projectId: string;
const workers: ReturnType<typeof startWorker>[] = [];
const sha = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");
const s3client = new S3Client({
  endpoint: S3.S3_ENDPOINT,
  region: "us-east-1",
  forcePathStyle: true,
  credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
});
const getObject = async (Bucket: string, Key: string) =>
  Buffer.from(await (await s3client.send(new GetObjectCommand({ Bucket, Key }))).Body!.transformToByteArray());

beforeAll(async () => {
  mlflowUrl = await mlflow.start();
  const member = await createUser({ name: "Mia" });
  const viewer = await createUser();
  const team = await createTeamWith([
    { userId: member.id, role: "MEMBER" },
    { userId: viewer.id, role: "VIEWER" },
  ]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Exp", slug: "exp" } })).id;
  memberCookie = await sessionCookie(member);
  viewerCookie = await sessionCookie(viewer);
  strangerCookie = await sessionCookie(await createUser());
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await trainingQueue.obliterate({ force: true });
  await mlflow.stop();
  await s3.close();
});

const start = (name: string, env: Record<string, string> = {}) => {
  const w = startWorker(name, {
    ...S3,
    MLFLOW_TRACKING_URI: mlflowUrl,
    MLFLOW_MAX_BACKOFF_MS: "400",
    ARTIFACT_CHECKPOINT_INTERVAL_MS: "0",
    REPORT_INTERVAL_MS: "500",
    ...env,
  });
  workers.push(w);
  return w;
};
async function trainedJob(name: string) {
  const res = await call(jobsRoute.POST, {
    cookie: memberCookie,
    params: { projectId },
    body: { name, config: { model: "yolo11n.yaml", train: { data: "d/data.yaml", epochs: 2 }, metadata: { fake: { delayMs: 20 } } } },
  });
  expect(res.status).toBe(201);
  const id = res.body.job.id as string;
  await waitFor(async () => (await db.trainingJob.findUniqueOrThrow({ where: { id } })).status === "SUCCEEDED", 20_000, `job ${name}`);
  return id;
}
/** Waits until the online workers' reports offer `format` (a worker reports itself just after it is ready). */
const offered = (jobId: string, format: string) =>
  waitFor(
    async () =>
      ((await call(exportsRoute.GET, { cookie: memberCookie, params: { jobId } })).body.availableFormats as string[]).includes(format),
    10_000,
    `${format} to be offered`,
  );
const postExport = (jobId: string, body: unknown, cookie = memberCookie) => call(exportsRoute.POST, { cookie, params: { jobId }, body });
const exportRow = (id: string) => db.modelExport.findUniqueOrThrow({ where: { id }, include: { artifact: true } });
/** The export once it has ended, either way. */
const exportEnded = (id: string, what: string) =>
  waitFor(
    async () => {
      const r = await exportRow(id);
      return r.status === "SUCCEEDED" || r.status === "FAILED" ? r : null;
    },
    20_000,
    what,
  );

describe("model export", () => {
  let jobId: string;

  it("exports a finished job's best.pt as a job of its own; the output is an artifact of the job and of its MLflow run", async () => {
    const w = start("exp-1");
    await w.ready;
    jobId = await trainedJob("to export");
    const best = await db.jobArtifact.findFirstOrThrow({ where: { jobId, name: "weights/best.pt" } });

    // The worker reported what it can export; the list offers exactly that.
    const listed = await waitFor(
      async () => {
        const r = await call(exportsRoute.GET, { cookie: memberCookie, params: { jobId } });
        return r.body.availableFormats.length ? r : null;
      },
      10_000,
      "export formats",
    );
    expect(listed.body).toMatchObject({ availableFormats: ["torchscript", "onnx"], canExport: true, exports: [] });

    const res = await postExport(jobId, { format: "onnx", imgsz: 320, dynamic: true });
    expect(res.status).toBe(201);
    expect(res.body.export).toMatchObject({
      jobId,
      format: "onnx",
      status: "QUEUED",
      options: { format: "onnx", imgsz: 320, dynamic: true },
    });
    const exportId = res.body.export.id as string;
    expect(await trainingQueue.getJob(exportId)).toMatchObject({ name: "export", data: { exportId }, opts: { priority: 20 } });

    const done = await exportEnded(exportId, "the export");
    expect(done.failureReason).toBeNull();
    expect(done).toMatchObject({ status: "SUCCEEDED", workerName: "exp-1" });
    expect(done.artifact!.name).toBe("exports/onnx-dynamic-320/best.onnx");

    // Listed with the job's artifacts and downloadable by a VIEWER; the bytes are the exporter's
    // output made from this job's best.pt, and match the recorded checksum.
    const artifacts = await call(listRoute.GET, { cookie: viewerCookie, params: { jobId } });
    const onnx = artifacts.body.artifacts.find((a: { name: string }) => a.name === "exports/onnx-dynamic-320/best.onnx");
    const raw = await downloadRoute.GET(new Request("http://localhost/x", { headers: { cookie: viewerCookie } }), {
      params: Promise.resolve({ jobId, artifactId: onnx.id }),
    });
    expect(raw.status).toBe(302);
    expect(decodeURIComponent(raw.headers.get("location")!)).toContain('filename="exp-to-export-best.onnx"');
    const bytes = Buffer.from(await (await fetch(raw.headers.get("location")!)).arrayBuffer());
    expect(sha(bytes)).toBe(onnx.sha256);
    expect(bytes.toString()).toContain(`FAKE-EXPORT onnx of ${best.sha256}`);

    // The job's timeline says so, and the export is audited.
    const kinds = (await db.jobEvent.findMany({ where: { jobId }, orderBy: { createdAt: "asc" } })).map((e) => e.kind);
    expect(kinds.slice(-2)).toEqual(["export-queued", "exported"]);
    expect(await db.auditLog.count({ where: { action: "export.create", targetId: exportId } })).toBe(1);

    // MLflow: the run got the training's files and the export, through the artifact proxy.
    const job = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
    const root = job.mlflowArtifactUri!.replace("mlflow-artifacts:/", "");
    await waitFor(async () => mlflow.artifacts.has(`${root}/exports/onnx-dynamic-320/best.onnx`), 10_000, "the export in the MLflow run");
    expect(sha(mlflow.artifacts.get(`${root}/weights/best.pt`)!)).toBe(best.sha256);
    expect(sha(mlflow.artifacts.get(`${root}/exports/onnx-dynamic-320/best.onnx`)!)).toBe(onnx.sha256);
    expect(mlflow.artifacts.has(`${root}/results.csv`)).toBe(true);

    // The same request again answers the export that exists (200), not a second one.
    const again = await postExport(jobId, { format: "onnx", dynamic: true, imgsz: 320 });
    expect(again.status).toBe(200);
    expect(again.body.export.id).toBe(exportId);
    expect(await db.modelExport.count({ where: { jobId } })).toBe(1);
  });

  it("checks role, team, input and job state before anything is written", async () => {
    const before = await db.modelExport.count();
    expect((await postExport(jobId, { format: "onnx" }, viewerCookie)).status).toBe(403);
    expect((await postExport(jobId, { format: "onnx" }, strangerCookie)).status).toBe(404);
    expect((await call(exportsRoute.GET, { cookie: strangerCookie, params: { jobId } })).status).toBe(404);
    const viewerList = await call(exportsRoute.GET, { cookie: viewerCookie, params: { jobId } });
    expect(viewerList.body.canExport).toBe(false);

    const bogus = await postExport(jobId, { format: "bogus" });
    expect(bogus.status).toBe(422);
    expect(bogus.body.error.fields.format[0]).toContain("onnx");
    const wrongOption = await postExport(jobId, { format: "onnx", int8: true });
    expect(wrongOption.status).toBe(422);
    expect(wrongOption.body.error.fields.int8[0]).toMatch(/Not supported for ONNX/);
    const badSize = await postExport(jobId, { format: "onnx", imgsz: 333, extra: 1 });
    expect(badSize.status).toBe(422);
    expect(Object.keys(badSize.body.error.fields).sort()).toEqual(["_", "imgsz"]);
    const unsupported = await postExport(jobId, { format: "openvino" });
    expect(unsupported.status).toBe(422);
    expect(unsupported.body.error.fields.format[0]).toBe("No online worker can export to OpenVINO; available: torchscript, onnx");
    const notJson = await call(exportsRoute.POST, { cookie: memberCookie, params: { jobId }, rawBody: "{nope" });
    expect(notJson.status).toBe(400);

    // A job that has not succeeded cannot be exported.
    const running = await call(jobsRoute.POST, {
      cookie: memberCookie,
      params: { projectId },
      body: {
        name: "slow",
        config: { model: "yolo11n.yaml", train: { data: "d/data.yaml", epochs: 50 }, metadata: { fake: { delayMs: 200 } } },
      },
    });
    const conflict = await postExport(running.body.job.id, { format: "onnx" });
    expect(conflict.status).toBe(409);
    expect(conflict.body.error.message).toMatch(/finished successfully/);
    expect(await db.modelExport.count()).toBe(before);
    await db.trainingJob.update({ where: { id: running.body.job.id }, data: { cancelRequestedAt: new Date() } });
    await redis.publish("wyolo:job-cancel", running.body.job.id);
    await waitFor(
      async () => (await db.trainingJob.findUniqueOrThrow({ where: { id: running.body.job.id } })).status === "CANCELLED",
      20_000,
      "the slow job to cancel",
    );
  });

  it("runs on a worker that did not train the job (weights from the object store), and reports an exporter failure on the export and the job's timeline", async () => {
    await Promise.all(workers.map((w) => w.stop()));
    const other = start("exp-2", { FAKE_EXPORT_FORMATS: "torchscript" });
    await other.ready;
    // exp-1's last report says it stopped: only exp-2 (torchscript) is offered now.
    await offered(jobId, "torchscript");
    const res = await postExport(jobId, { format: "torchscript" });
    expect(res.status).toBe(201);
    const done = await exportEnded(res.body.export.id, "the export on exp-2");
    expect(done).toMatchObject({ status: "SUCCEEDED", workerName: "exp-2" });
    const best = await db.jobArtifact.findFirstOrThrow({ where: { jobId, name: "weights/best.pt" } });
    expect((await getObject("wyolo-artifacts", done.artifact!.storageKey)).toString()).toContain(
      `FAKE-EXPORT torchscript of ${best.sha256}`,
    );
    await other.stop();

    const failing = start("exp-3", { FAKE_EXPORT_FAIL: "1" });
    await failing.ready;
    await offered(jobId, "onnx");
    const bad = await postExport(jobId, { format: "onnx", opset: 12 });
    expect(bad.status).toBe(201);
    const failed = await exportEnded(bad.body.export.id, "the failing export");
    expect(failed.status).toBe("FAILED");
    expect(failed.failureReason).toBe("INVALID_ARGUMENT: export failed (fixture) for onnx");
    expect(failed.artifactId).toBeNull();
    const last = await db.jobEvent.findFirstOrThrow({ where: { jobId }, orderBy: { createdAt: "desc" } });
    expect(last).toMatchObject({
      kind: "export-failed",
      message: "Export to ONNX failed: INVALID_ARGUMENT: export failed (fixture) for onnx",
    });
    // FP16 ONNX needs a GPU (Ultralytics would quietly export FP32 on a CPU): no worker here has one.
    const half = await postExport(jobId, { format: "onnx", half: true });
    expect(half.status).toBe(422);
    expect(half.body.error.fields).toEqual({
      half: ["FP16 ONNX needs a GPU worker, and none that exports ONNX is online; export without FP16"],
    });
    // A failed export does not block asking again (after fixing what failed).
    await failing.stop();
  });

  it("runs an FP16 ONNX export on a GPU of a worker that has one", async () => {
    const w = start("exp-gpu", { NVIDIA_SMI: "apps/worker/test/fixtures/fake-nvidia-smi.sh" });
    await w.ready;
    try {
      await offered(jobId, "onnx");
      const res = await postExport(jobId, { format: "onnx", half: true });
      expect(res.status).toBe(201);
      const done = await exportEnded(res.body.export.id, "the FP16 export");
      expect(done.failureReason).toBeNull();
      expect(done.artifact!.name).toBe("exports/onnx-fp16/best.onnx");
      // The exporter saw one GPU, renumbered from 0, as trainings do.
      const text = (await getObject("wyolo-artifacts", done.artifact!.storageKey)).toString();
      expect(text).toContain('"half":true');
      expect(text).toMatch(/ device=0\n$/);
    } finally {
      await w.stop();
    }
  });

  it("fails an export at once, saying so, when the job's best.pt is gone from the object store", async () => {
    const best = await db.jobArtifact.findFirstOrThrow({ where: { jobId, name: "weights/best.pt" } });
    await s3client.send(new DeleteObjectCommand({ Bucket: "wyolo-artifacts", Key: best.storageKey }));
    const w = start("exp-4");
    await w.ready;
    try {
      await offered(jobId, "onnx");
      const res = await postExport(jobId, { format: "onnx", imgsz: 64 });
      expect(res.status).toBe(201);
      const done = await exportEnded(res.body.export.id, "the export");
      expect(done).toMatchObject({ status: "FAILED", failureReason: "The job's best.pt is no longer in the object store" });
    } finally {
      await w.stop();
    }
  });
});

describe("MLflow runs with an s3:// artifact root", () => {
  it("copies the run's files into the run's own location in the bucket", async () => {
    mlflow.artifactRoot = "s3://mlflow-store/experiments";
    // A project of its own: its experiment is created with the s3:// root.
    const team = await db.project.findUniqueOrThrow({ where: { id: projectId }, select: { teamId: true } });
    projectId = (await db.project.create({ data: { teamId: team.teamId, name: "S3 root", slug: "s3-root" } })).id;
    const w = start("exp-s3root");
    await w.ready;
    const id = await trainedJob("s3 root");
    const job = await db.trainingJob.findUniqueOrThrow({ where: { id } });
    expect(job.mlflowArtifactUri).toMatch(/^s3:\/\/mlflow-store\/experiments\/\d+\/[0-9a-f]{32}\/artifacts$/);
    const prefix = job.mlflowArtifactUri!.replace("s3://mlflow-store/", "");
    const best = await db.jobArtifact.findFirstOrThrow({ where: { jobId: id, name: "weights/best.pt" } });
    const copy = await waitFor(
      () => getObject("mlflow-store", `${prefix}/weights/best.pt`).catch(() => null),
      10_000,
      "the copy in the run's location",
    );
    expect(sha(copy)).toBe(best.sha256);
    await w.stop();
  });
});
