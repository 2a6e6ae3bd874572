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

// A real Ultralytics export (ONNX) through the worker, of a real 1-epoch training, with a real
// S3 server process. Runs where the trainer's Python imports ultralytics, torch and onnx; skips
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
if (!ready) console.warn(`SKIPPED real Ultralytics export: ${onnxProblem || report.problem || "the trainer check failed"} (set WYOLO_TEST_PYTHON / PYTHONPATH to a Python with ultralytics and onnx)`);

describe.skipIf(!ready)(`real export with Ultralytics ${report.ultralytics ?? ""}`, () => {
  let worker: WorkerHandle;
  let s3: S3rver;
  let endpoint = "";
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-realx-"));

  beforeAll(async () => {
    s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: path.join(dataDir, "s3") });
    endpoint = `http://127.0.0.1:${(await s3.run()).port}`;
    execFileSync(python, ["apps/worker/trainer/make_dataset.py", "detect", path.join(dataDir, "shapes"), "--train", "16", "--val", "8", "--size", "64"], { cwd: ROOT });
    worker = startWorker("real-export", {
      TRAINER_COMMAND: `${python} apps/worker/trainer/train.py`,
      EXPORTER_COMMAND: `${python} apps/worker/trainer/export.py`,
      WORKER_DATA_DIR: path.join(dataDir, "runs"),
      S3_ENDPOINT: endpoint,
      S3_ACCESS_KEY_ID: "S3RVER",
      S3_SECRET_ACCESS_KEY: "S3RVER",
      REPORT_INTERVAL_MS: "500",
    });
    await worker.ready;
  }, 180_000);

  afterAll(async () => {
    await worker?.stop();
    await trainingQueue.obliterate({ force: true });
    await s3?.close();
  });

  it("exports a trained best.pt to a valid ONNX model stored as the job's artifact", async () => {
    const member = await createUser();
    const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
    const projectId = (await db.project.create({ data: { teamId: team.id, name: "RealX", slug: "realx" } })).id;
    const cookie = await sessionCookie(member);
    const res = await call(jobsRoute.POST, { cookie, params: { projectId }, body: { name: "to onnx", config: { model: "yolov8n.yaml", train: { data: path.join(dataDir, "shapes", "data.yaml"), epochs: 1, imgsz: 64, batch: 8, workers: 0, plots: false } } } });
    const jobId = res.body.job.id as string;
    const done = await waitFor(async () => { const j = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId } }); return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j; }, 150_000, "the training");
    expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");

    const offered = await waitFor(async () => { const r = await call(exportsRoute.GET, { cookie, params: { jobId } }); return r.body.availableFormats.includes("onnx") && r; }, 10_000, "onnx to be offered");
    expect(offered.body.availableFormats).toContain("torchscript");
    const asked = await call(exportsRoute.POST, { cookie, params: { jobId }, body: { format: "onnx", imgsz: 64 } });
    expect(asked.status).toBe(201);
    const exp = await waitFor(async () => { const e = await db.modelExport.findUniqueOrThrow({ where: { id: asked.body.export.id }, include: { artifact: true } }); return ["SUCCEEDED", "FAILED"].includes(e.status) && e; }, 120_000, "the export");
    expect(exp.status, exp.failureReason ?? "").toBe("SUCCEEDED");
    expect(exp.artifact!.name).toBe("exports/onnx-64/best.onnx");

    // The stored bytes are an ONNX model that onnx's checker accepts, with a 64×64 input.
    const s3client = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } });
    const bytes = await (await s3client.send(new GetObjectCommand({ Bucket: "wyolo-artifacts", Key: exp.artifact!.storageKey }))).Body!.transformToByteArray();
    const file = path.join(dataDir, "check.onnx");
    writeFileSync(file, bytes);
    const shape = execFileSync(python, ["-c", "import onnx,sys; m=onnx.load(sys.argv[1]); onnx.checker.check_model(m); print([d.dim_value for d in m.graph.input[0].type.tensor_type.shape.dim])", file], { encoding: "utf8" }).trim();
    expect(shape).toBe("[1, 3, 64, 64]");
  }, 300_000);
});
