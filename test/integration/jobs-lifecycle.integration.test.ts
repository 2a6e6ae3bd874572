import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as cancelRoute from "@/app/api/v1/jobs/[jobId]/cancel/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// The workers of this file share one data directory, as workers on one host do: a job picked up
// again finds its own checkpoint there.
const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-lifecycle-"));
const start = (name: string) => startWorker(name, { WORKER_DATA_DIR: dataDir, MAX_LOG_LINES: "1000" });
let cookie: string;
let projectId: string;
const workers: WorkerHandle[] = [];

function config(epochs: number, fake: Record<string, unknown> = {}) {
  return { model: "yolov8n.yaml", train: { data: "shapes/data.yaml", epochs, imgsz: 64, batch: 4 }, metadata: { fake } };
}

async function submit(name: string, cfg: ReturnType<typeof config>, priority = "normal") {
  const res = await call(jobsRoute.POST, { cookie, params: { projectId }, body: { name, priority, config: cfg } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.job.id as string;
}

const job = (id: string) => db.trainingJob.findUniqueOrThrow({ where: { id }, include: { events: { orderBy: { createdAt: "asc" } } } });
const ended = (id: string, timeoutMs = 30_000) =>
  waitFor(
    async () => {
      const j = await job(id);
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    },
    timeoutMs,
    `job ${id} to end`,
  );

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Shapes", slug: "shapes" } })).id;
  cookie = await sessionCookie(member);
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await trainingQueue.obliterate({ force: true });
});

describe("training jobs through a real worker process", () => {
  it("cancels a queued job: it leaves the queue at once and never runs", async () => {
    const id = await submit("queued then cancelled", config(2));
    expect(await trainingQueue.getJobState(id)).toBe("prioritized");
    const res = await call(cancelRoute.POST, { cookie, params: { jobId: id } });
    expect(res.status).toBe(202);
    expect(res.body.job.status).toBe("CANCELLED");
    expect(await trainingQueue.getJob(id)).toBeUndefined();
  });

  it("runs a job to SUCCEEDED with every epoch, the log and the timeline persisted", async () => {
    workers.push(start("w1"));
    await workers[0]!.ready;
    const id = await submit("happy path", config(4, { noisyStdout: true }));
    const done = await ended(id);
    expect(done.status).toBe("SUCCEEDED");
    expect(done).toMatchObject({
      currentEpoch: 4,
      totalEpochs: 4,
      progress: 1,
      attempt: 1,
      workerName: "w1",
      bestMetricName: "metrics/mAP50-95(B)",
    });
    expect(done.bestMetric).toBeCloseTo(0.9);
    const epochs = await db.jobEpoch.findMany({ where: { jobId: id }, orderBy: { epoch: "asc" } });
    expect(epochs.map((e) => e.epoch)).toEqual([1, 2, 3, 4]);
    expect(epochs[0]!.losses).toMatchObject({ "train/box_loss": 2 });
    const logs = await db.jobLog.findMany({ where: { jobId: id }, orderBy: { seq: "asc" } });
    // Progress bars redraw with \r: only the final state of each line is kept.
    expect(logs.filter((l) => l.line.includes("batch")).map((l) => l.line.trim())).toEqual([
      "1/4  batch 4/4",
      "2/4  batch 4/4",
      "3/4  batch 4/4",
      "4/4  batch 4/4",
    ]);
    expect(logs.some((l) => l.line === "epoch 4/4 done")).toBe(true);
    expect(done.events.map((e) => e.kind)).toEqual(["queued", "starting", "running", "succeeded"]);
  });

  it("keeps a job's log bounded: the newest lines stay", async () => {
    const id = await submit("chatty", config(3, { spamLines: 700 }));
    expect((await ended(id)).status).toBe("SUCCEEDED");
    const lines = await db.jobLog.findMany({
      where: { jobId: id },
      orderBy: { seq: "asc" },
      select: { line: true, seq: true, stream: true },
    });
    expect(lines.length).toBeLessThanOrEqual(1000);
    expect(
      lines.at(-1)!.line,
      JSON.stringify({
        n: lines.length,
        first: lines[0],
        last: lines.slice(-3),
        worker: workers
          .at(-1)!
          .output()
          .split("\n")
          .filter((l) => l.includes("flush") || l.includes("malformed"))
          .slice(-3),
      }),
    ).toBe("epoch 3/3 done");
    expect(lines.some((l) => l.line === "epoch 1 line 0")).toBe(false);
  });

  it("fails a job whose trainer crashes, with the reason and the last output, and does not retry it", async () => {
    const id = await submit("crash", config(5, { crashAtEpoch: 2 }));
    const done = await ended(id);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toContain("crashed (exit code 3)");
    expect(done.logTail).toContain("simulated crash in epoch 2");
    expect(done.attempt).toBe(1);
    await waitFor(async () => (await trainingQueue.getJobState(id)) === "failed", 5_000, "the queue entry to fail");
    expect((await trainingQueue.getJob(id))!.attemptsMade).toBe(1);
  });

  it("fails with the trainer's own error class (bad dataset path), no retry", async () => {
    const id = await submit("bad dataset", config(3, { failAtEpoch: 1 }));
    const done = await ended(id);
    expect(done.status).toBe("FAILED");
    expect(done.failureClass).toBe("DATASET_NOT_FOUND");
    expect(done.failureReason).toContain("DATASET_NOT_FOUND: Dataset 'shapes/data.yaml' not found");
  });

  it("skips malformed event lines without failing the job", async () => {
    const id = await submit("malformed", config(2, { malformed: true }));
    expect((await ended(id)).status).toBe("SUCCEEDED");
    expect(workers[0]!.output()).toContain("skipped a malformed trainer event");
  });

  it("cancels a running job at the next epoch boundary", async () => {
    const id = await submit("cancel me", config(50, { delayMs: 150 }));
    await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 2, 20_000, "epoch 2");
    const res = await call(cancelRoute.POST, { cookie, params: { jobId: id } });
    expect(res.status).toBe(202);
    expect(res.body.job.cancelRequestedAt).not.toBeNull();
    const done = await ended(id, 10_000);
    expect(done.status).toBe("CANCELLED");
    expect(done.currentEpoch!).toBeLessThan(50);
    expect(done.events.map((e) => e.kind)).toContain("cancel_requested");
    expect(done.events.at(-1)!.message).toContain("epoch boundary");
  });

  it("re-queues the job of a SIGKILLed worker; a second worker resumes it from its checkpoint", async () => {
    await workers[0]!.stop();
    const a = start("doomed");
    workers.push(a);
    await a.ready;
    const id = await submit("survivor", config(12, { delayMs: 250 }));
    await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 3, 20_000, "epoch 3 on the first worker");
    a.child.kill("SIGKILL");
    await a.exited;
    const epochAtDeath = (await job(id)).currentEpoch!;

    const b = start("rescuer");
    workers.push(b);
    await b.ready;
    const done = await ended(id, 60_000);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.workerName).toBe("rescuer");
    expect(done.attempt).toBe(2);
    const kinds = done.events.map((e) => e.kind);
    expect(kinds).toContain("stalled");
    expect(kinds.indexOf("stalled")).toBeLessThan(kinds.lastIndexOf("resumed"));
    const epochs = await db.jobEpoch.findMany({ where: { jobId: id }, select: { epoch: true } });
    expect(epochs).toHaveLength(12);
    // Resumed from the checkpoint, not from scratch: the second run started after the last saved epoch. The
    // recorder's flush may trail the trainer's checkpoints by an epoch or two on a loaded machine.
    const resumed = done.events.find((e) => e.kind === "running" && e.message.includes("resumed"));
    const startEpoch = Number(/epochs (\d+)–12/.exec(resumed?.message ?? "")?.[1]);
    expect(startEpoch).toBeGreaterThanOrEqual(epochAtDeath);
    expect(startEpoch).toBeLessThanOrEqual(epochAtDeath + 2);
  });

  it("on SIGTERM, stops the trainer at an epoch boundary and puts the job back for another worker", async () => {
    const live = workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
    const id = await submit("drained", config(20, { delayMs: 200 }));
    await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 2, 20_000, "epoch 2");
    await Promise.all(live.map((w) => w.stop()));
    for (const w of live) expect(await w.exited).toBe(0);
    const requeued = await job(id);
    expect(requeued.status).toBe("QUEUED");
    expect(requeued.events.map((e) => e.kind)).toContain("requeued");

    const c = start("successor");
    workers.push(c);
    await c.ready;
    const done = await ended(id, 30_000);
    expect(done.status).toBe("SUCCEEDED");
    expect(done.workerName).toBe("successor");
    expect(await db.jobEpoch.count({ where: { jobId: id } })).toBe(20);
  });

  it("fails jobs at once, with the reason, on a worker whose trainer check failed", async () => {
    await Promise.all(workers.map((w) => w.stop()));
    const broken = startWorker("broken", { FAKE_TRAINER_CHECK_FAIL: "1" });
    workers.push(broken);
    await broken.ready;
    const id = await submit("no trainer", config(2));
    const done = await ended(id, 10_000);
    expect(done.status).toBe("FAILED");
    expect(done.failureReason).toBe("Worker broken cannot train: python3 cannot import ultralytics (fixture)");
    expect(broken.output()).toContain("this worker cannot train");
  });
});
