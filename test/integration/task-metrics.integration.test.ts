import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// Issue 16 parts 2 and 3 through a real worker with the fake trainer: each task's own best metric at
// the epoch of best.pt, dataset failures with their class and suggestion, the failure excerpt,
// AutoBatch's decision on the timeline, and the default dataloader workers.
let cookie: string;
let projectId: string;
let worker: WorkerHandle;

type Fake = Record<string, unknown>;
function config(model: string, fake: Fake, train: Record<string, unknown> = {}) {
  return { model, train: { data: "shapes/data.yaml", epochs: 4, imgsz: 64, batch: 4, workers: 0, ...train }, metadata: { fake } };
}

async function run(name: string, cfg: ReturnType<typeof config>) {
  const res = await call(jobsRoute.POST, { cookie, params: { projectId }, body: { name, config: cfg } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  const id = res.body.job.id as string;
  return waitFor(
    async () => {
      const j = await db.trainingJob.findUniqueOrThrow({ where: { id }, include: { events: { orderBy: { createdAt: "asc" } } } });
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    },
    30_000,
    `job ${name} to end`,
  );
}

const logOf = async (jobId: string) => (await db.jobLog.findMany({ where: { jobId }, orderBy: { seq: "asc" } })).map((l) => l.line);

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Tasks", slug: "tasks" } })).id;
  cookie = await sessionCookie(member);
  // 4 cores, one job at a time: a job's dataloader share is 3 (one core kept for the trainer).
  worker = startWorker("tasks", { WORKER_CPU_CORES: "4", WORKER_CONCURRENCY: "1" });
  await worker.ready;
});

afterAll(async () => {
  await worker?.stop();
  await trainingQueue.obliterate({ force: true });
});

describe("each task's own numbers", () => {
  it.each([
    ["segment", "yolov8n-seg.yaml", "metrics/mAP50-95(M)"],
    ["pose", "yolov8n-pose.yaml", "metrics/mAP50-95(P)"],
    ["classify", "yolov8n-cls.yaml", "metrics/accuracy_top1"],
    ["detect", "yolov8n.yaml", "metrics/mAP50-95(B)"],
  ])("%s: the best is the task's own metric, at best.pt's epoch (the last of a tie)", async (task, model, name) => {
    const done = await run(`${task} tie`, config(model, { taskMetrics: task, curve: [0.2, 0.5, 0.5, 0.3] }));
    expect(done.status).toBe("SUCCEEDED");
    expect(done).toMatchObject({ bestMetricName: name, bestEpoch: 3 });
    expect(done.bestMetric).toBeCloseTo(0.5);
  });

  it("pose with box mAP 0 throughout still shows its keypoint mAP (issue 16's pose run)", async () => {
    const done = await run("pose small", config("yolov8n-pose.yaml", { taskMetrics: "pose", curve: [0.0001, 0.00019, 0.0001, 0.00019] }));
    expect(done).toMatchObject({ status: "SUCCEEDED", bestMetricName: "metrics/mAP50-95(P)", bestEpoch: 4 });
    expect(done.bestMetric).toBeCloseTo(0.00019, 6);
  });
});

// train.py's words for a classify job (dataset_layout), as the failed event carries them.
const LAYOUT =
  "A classify model trains from a folder with train/ and val/, one subfolder of images per class (train/cat/1.jpg, val/cat/2.jpg); give that folder as `data`";

describe("failures say what is wrong with the dataset", () => {
  it("keeps DATASET_INVALID with its suggestion, and an excerpt without Ultralytics' settings notices", async () => {
    const done = await run(
      "wrong layout",
      config("yolov8n-cls.yaml", { failAtEpoch: 1, failClass: "DATASET_INVALID", failSuggestion: LAYOUT, settingsNotice: true }),
    );
    expect(done.status).toBe("FAILED");
    expect(done.failureClass).toBe("DATASET_INVALID");
    expect(done.failureReason).toBe(`DATASET_INVALID: Dataset 'shapes/data.yaml' not found (${LAYOUT})`);
    expect(await logOf(done.id)).toEqual(expect.arrayContaining([expect.stringContaining("Creating new Ultralytics Settings")]));
    expect(done.logTail).not.toMatch(/Ultralytics Settings|yolo settings/);
    expect(done.logTail).toContain("CUDA_VISIBLE_DEVICES");
  });
});

describe("AutoBatch and dataloader workers", () => {
  it("puts AutoBatch's decision on the timeline: Ultralytics' 3146 becomes AUTO_BATCH_MAX (512 by default), never a silent 16", async () => {
    const done = await run(
      "autobatch",
      config("yolov8n.yaml", { autoBatch: { computed: 3146, memoryTotalGb: 139.8 } }, { batch: -1, epochs: 2 }),
    );
    expect(done.status).toBe("SUCCEEDED");
    const note = done.events.find((e) => e.kind === "autobatch");
    expect(note?.message).toBe("AutoBatch: 3146 at 60 % of 139.8 GB → 512 (ceiling, AUTO_BATCH_MAX 512)");
    expect(done.events.find((e) => e.kind === "running")?.message).toContain("batch 512");
    expect(done.events.map((e) => e.kind).indexOf("autobatch")).toBeLessThan(done.events.map((e) => e.kind).indexOf("running"));
    expect(await logOf(done.id)).toContain("[info] AutoBatch: 3146 at 60 % of 139.8 GB → 512 (ceiling, AUTO_BATCH_MAX 512)");
  });

  it("sizes dataloader workers from the job's share of the cores when the config leaves them out, keeps an asked-for value", async () => {
    const { workers: _, ...train } = config("yolov8n.yaml", {}).train;
    const left = await run("workers left out", {
      model: "yolov8n.yaml",
      train: { ...train, epochs: 1 } as ReturnType<typeof config>["train"],
      metadata: { fake: { echoWorkers: true } },
    });
    const lines = await logOf(left.id);
    expect(lines).toContain("dataloader workers=3");
    expect(lines).toEqual(expect.arrayContaining([expect.stringMatching(/^\[info\] Dataloader workers: 3, this job's share/)]));
    // Not a timeline entry: nothing the user asked for changed.
    expect(left.events.map((e) => e.kind)).toEqual(["queued", "starting", "running", "succeeded"]);
    const asked = await run("workers asked", config("yolov8n.yaml", { echoWorkers: true }, { workers: 2, epochs: 1 }));
    expect(await logOf(asked.id)).toContain("dataloader workers=2");
  });
});
