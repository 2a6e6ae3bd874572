import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// Issue 15, items 6 and 7: a worker shut down mid-run (SIGTERM) hands its job back; the next
// worker trains the epochs that are left, even though the trainer's final evaluation stripped
// last.pt (the fake trainer strips it like Ultralytics), and every epoch keeps its time.
const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-shutdown-resume-"));
const start = (name: string) => startWorker(name, { WORKER_DATA_DIR: dataDir });
const workers: WorkerHandle[] = [];
let cookie: string;
let projectId: string;

const EPOCHS = 10;
const config = {
  model: "yolov8n.yaml",
  train: { data: "shapes/data.yaml", epochs: EPOCHS, imgsz: 64, batch: 4 },
  metadata: { fake: { delayMs: 200 } },
};
const weightsOf = (id: string) => path.join(dataDir, "jobs", id, "train", "weights");
const job = (id: string) => db.trainingJob.findUniqueOrThrow({ where: { id }, include: { events: { orderBy: { createdAt: "asc" } } } });

async function submit(name: string) {
  const res = await call(jobsRoute.POST, { cookie, params: { projectId }, body: { name, config } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.job.id as string;
}

/** Runs the job on a worker that is SIGTERMed once epoch 2 is recorded; returns the epoch it stopped after. */
async function shutDownMidRun(id: string) {
  const first = start(`first-${id.slice(-6)}`);
  workers.push(first);
  await first.ready;
  await waitFor(async () => ((await job(id)).currentEpoch ?? 0) >= 2, 20_000, "epoch 2 on the first worker").catch((err: Error) => {
    throw new Error(`${err.message}; the worker said:\n${first.output().slice(-3000)}`);
  });
  await first.stop();
  expect(await first.exited).toBe(0);
  const requeued = await job(id);
  expect(requeued.status, requeued.failureReason ?? "").toBe("QUEUED");
  expect(requeued.events.map((e) => e.kind)).toContain("requeued");
  // The trainer stopped at an epoch boundary; its final evaluation stripped last.pt, but the copy
  // taken at the boundary can still be resumed.
  const last = JSON.parse(readFileSync(path.join(weightsOf(id), "last.json"), "utf8")) as { epoch: number };
  expect(last.epoch).toBe(-1);
  const kept = JSON.parse(readFileSync(path.join(weightsOf(id), "last.resumable.json"), "utf8")) as { epoch: number };
  expect(kept.epoch).toBeGreaterThanOrEqual(2);
  expect(kept.epoch).toBeLessThan(EPOCHS);
  return kept.epoch;
}

async function finishOnSecondWorker(id: string, stoppedAfter: number) {
  const second = start(`second-${id.slice(-6)}`);
  workers.push(second);
  await second.ready;
  const done = await waitFor(
    async () => {
      const j = await job(id);
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    },
    40_000,
    `job ${id} to end`,
  );
  await second.stop();
  expect(done.status, done.failureReason ?? "").toBe("SUCCEEDED");
  expect(done.currentEpoch).toBe(EPOCHS);
  // The second attempt trained the rest, not everything again and not nothing.
  const running = done.events.filter((e) => e.kind === "running");
  expect(running.at(-1)!.message).toContain(`Training resumed: epochs ${stoppedAfter + 1}–${EPOCHS}`);
  // Every epoch recorded, each with its own time (the re-sent ones included).
  const epochs = await db.jobEpoch.findMany({ where: { jobId: id }, orderBy: { epoch: "asc" } });
  expect(epochs.map((e) => e.epoch)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
  for (const e of epochs) {
    expect(e.epochTime, `epoch ${e.epoch}'s time`).not.toBeNull();
    expect(e.epochTime!).toBeGreaterThan(0);
  }
  return done;
}

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

describe("a worker shutdown mid-run", () => {
  it("SIGTERM → the next worker resumes from the kept checkpoint and trains the remaining epochs → SUCCEEDED with every epoch", async () => {
    const id = await submit("shut down, resumed");
    const stoppedAfter = await shutDownMidRun(id);
    await finishOnSecondWorker(id, stoppedAfter);
    expect(existsSync(path.join(weightsOf(id), "last.resumable.json"))).toBe(false); // consumed by the resume
  }, 90_000);

  it("without the kept copy, a stripped checkpoint is checked against results.csv and the rest is trained", async () => {
    const id = await submit("shut down, copy lost");
    const stoppedAfter = await shutDownMidRun(id);
    // Only what Ultralytics left: the stripped last.pt ("nothing to resume") and results.csv.
    rmSync(path.join(weightsOf(id), "last.resumable.json"));
    await finishOnSecondWorker(id, stoppedAfter);
  }, 90_000);
});
