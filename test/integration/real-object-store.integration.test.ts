import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as exportsRoute from "@/app/api/v1/jobs/[jobId]/exports/route";
import { ROOT } from "./db";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { realTrainer, startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// Real Ultralytics with a real S3 server process: an export (ONNX) of a real 1-epoch training,
// and a training resumed on another host from the checkpoint in the object store. Runs where the trainer's Python imports ultralytics, torch and onnx; skips
// with the reason where it cannot (CI here: no PyPI).
const { python, report, ready: trainerReady } = realTrainer();
let onnxProblem = "";
if (trainerReady) {
  try {
    execFileSync(python, ["-c", "import onnx"], { stdio: "pipe" });
  } catch {
    onnxProblem = `${python} cannot import onnx`;
  }
}
const ready = trainerReady && !onnxProblem;
if (!ready)
  console.warn(
    `SKIPPED real Ultralytics with the object store (export, cross-host resume): ${onnxProblem || report.problem || "the trainer check failed"} (set WYOLO_TEST_PYTHON / PYTHONPATH to a Python with ultralytics and onnx)`,
  );

describe.skipIf(!ready)(`real Ultralytics with the object store, ${report.ultralytics ?? ""}`, () => {
  let worker: WorkerHandle;
  const others: WorkerHandle[] = [];
  let s3: S3rver;
  let endpoint = "";
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-realx-"));

  const startReal = (name: string, dir: string) =>
    startWorker(name, {
      TRAINER_COMMAND: `${python} apps/worker/trainer/train.py`,
      EXPORTER_COMMAND: `${python} apps/worker/trainer/export.py`,
      WORKER_DATA_DIR: path.join(dataDir, dir),
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      REPORT_INTERVAL_MS: "500",
      ARTIFACT_CHECKPOINT_INTERVAL_MS: "0",
      LOCK_DURATION_MS: "4000",
      STALLED_INTERVAL_MS: "2000",
    });

  beforeAll(async () => {
    s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: path.join(dataDir, "s3") });
    endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    execFileSync(
      python,
      ["apps/worker/trainer/make_dataset.py", "detect", path.join(dataDir, "shapes"), "--train", "16", "--val", "8", "--size", "64"],
      { cwd: ROOT },
    );
    worker = startReal("real-export", "runs");
    await worker.ready;
  }, 180_000);

  afterAll(async () => {
    await Promise.all(others.map((w) => w.stop()));
    await worker?.stop();
    await trainingQueue.obliterate({ force: true });
    await s3?.close();
  });

  it("exports a trained best.pt to a valid ONNX model stored as the job's artifact", async () => {
    const member = await createUser();
    const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
    const projectId = (await db.project.create({ data: { teamId: team.id, name: "RealX", slug: "realx" } })).id;
    const cookie = await sessionCookie(member);
    const res = await call(jobsRoute.POST, {
      cookie,
      params: { projectId },
      body: {
        name: "to onnx",
        config: {
          model: "yolov8n.yaml",
          train: { data: path.join(dataDir, "shapes", "data.yaml"), epochs: 1, imgsz: 64, batch: 8, workers: 0, plots: false },
        },
      },
    });
    const jobId = res.body.job.id as string;
    const done = await waitFor(
      async () => {
        const j = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
        return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
      },
      150_000,
      "the training",
    ).catch((err: Error) => {
      console.error(`worker output:\n${worker.output().slice(-5000)}`);
      throw err;
    });
    expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");

    const offered = await waitFor(
      async () => {
        const r = await call(exportsRoute.GET, { cookie, params: { jobId } });
        return r.body.availableFormats.includes("onnx") && r;
      },
      10_000,
      "onnx to be offered",
    );
    expect(offered.body.availableFormats).toContain("torchscript");
    const asked = await call(exportsRoute.POST, { cookie, params: { jobId }, body: { format: "onnx", imgsz: 64 } });
    expect(asked.status).toBe(201);
    const exp = await waitFor(
      async () => {
        const e = await db.modelExport.findUniqueOrThrow({ where: { id: asked.body.export.id }, include: { artifact: true } });
        return ["SUCCEEDED", "FAILED"].includes(e.status) && e;
      },
      120_000,
      "the export",
    );
    expect(exp.status, exp.failureReason ?? "").toBe("SUCCEEDED");
    expect(exp.artifact!.name).toBe("exports/onnx-64/best.onnx");

    // The stored bytes are an ONNX model that onnx's checker accepts, with a 64×64 input.
    const s3client = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    const bytes = await (
      await s3client.send(new GetObjectCommand({ Bucket: "wyolo-artifacts", Key: exp.artifact!.storageKey }))
    ).Body!.transformToByteArray();
    const file = path.join(dataDir, "check.onnx");
    writeFileSync(file, bytes);
    const shape = execFileSync(
      python,
      [
        "-c",
        "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m); print([d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim])",
        file,
      ],
      { encoding: "utf8" },
    ).trim();
    expect(shape).toBe("[1, 3, 64, 64]");
  }, 300_000);

  it("resumes a training on another host, with another data directory, from the checkpoint in the object store", async () => {
    const member = await createUser();
    const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
    const projectId = (await db.project.create({ data: { teamId: team.id, name: "RealR", slug: "realr" } })).id;
    const cookie = await sessionCookie(member);
    const res = await call(jobsRoute.POST, {
      cookie,
      params: { projectId },
      body: {
        name: "two hosts",
        config: {
          model: "yolov8n.yaml",
          train: { data: path.join(dataDir, "shapes", "data.yaml"), epochs: 5, imgsz: 64, batch: 8, workers: 0, plots: false },
        },
      },
    });
    const jobId = res.body.job.id as string;
    await waitFor(
      async () =>
        (await db.jobArtifact.findFirst({ where: { jobId, name: "weights/last.pt" } })) !== null &&
        ((await db.trainingJob.findUniqueOrThrow({ where: { id: jobId } })).currentEpoch ?? 0) >= 2,
      120_000,
      "a checkpoint in the store",
    );
    worker.child.kill("SIGKILL");
    await worker.exited;
    const other = startReal("real-host-b", "runs-b");
    others.push(other);
    await other.ready;
    const done = await waitFor(
      async () => {
        const j = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId } });
        return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
      },
      180_000,
      "the job to end on host b",
    ).catch(async (err: Error) => {
      console.error(
        `host b's output:\n${other.output().slice(-4000)}`,
        await db.jobEvent.findMany({ where: { jobId }, orderBy: { createdAt: "asc" } }),
      );
      throw err;
    });
    expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
    expect(done).toMatchObject({ workerName: "real-host-b", attempt: 2 });
    expect(await db.jobEvent.count({ where: { jobId, kind: "checkpoint-restored" } })).toBe(1);
    expect(await db.jobLog.count({ where: { jobId, line: { contains: "came from another host" } } })).toBe(1);
    const resumed = await db.jobEvent.findFirstOrThrow({ where: { jobId, kind: "running", message: { contains: "resumed" } } });
    expect(Number(/epochs (\d+)/.exec(resumed.message)![1])).toBeGreaterThan(1);
    expect((await db.jobEpoch.findMany({ where: { jobId }, select: { epoch: true } })).map((e) => e.epoch).sort()).toEqual([1, 2, 3, 4, 5]);
    // Host b wrote the rest of the run into its own directory: the stored results.csv has every epoch.
    const csv = await db.jobArtifact.findFirstOrThrow({ where: { jobId, name: "results.csv" } });
    const s3client = new S3Client({
      endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    });
    const text = await (
      await s3client.send(new GetObjectCommand({ Bucket: "wyolo-artifacts", Key: csv.storageKey }))
    ).Body!.transformToString();
    expect(
      text
        .trim()
        .split("\n")
        .slice(1)
        .map((l) => Number(l.split(",")[0])),
    ).toEqual([1, 2, 3, 4, 5]);
  }, 400_000);
});
