import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// The old service's WORKER_RAM_MEMORY / WORKER_CPU_CORES on a real worker process, with a stand-in
// trainer that really allocates memory (a child process of it, too, as a dataloader worker would).
const HOG = "node apps/worker/test/fixtures/memory-hog-trainer.mjs";
let cookie: string;
let projectId: string;
let worker: WorkerHandle;

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "Limits", slug: "limits" } })).id;
  cookie = await sessionCookie(member);
  worker = startWorker("limits-1", {
    TRAINER_COMMAND: HOG,
    WORKER_RAM_MEMORY: "1G",
    WORKER_CPU_CORES: "3",
    WORKER_CONCURRENCY: "1",
    MEMORY_CHECK_INTERVAL_MS: "200",
    // The old service's .env, carried over.
    MINIO_ID: "old-id",
    REDIS_HOST: "localhost",
  });
  await worker.ready;
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await trainingQueue.obliterate({ force: true });
});

async function submit(name: string, hog: Record<string, unknown>, train: Record<string, unknown> = {}) {
  const config = {
    model: "yolov8n.yaml",
    train: { data: "shapes/data.yaml", epochs: 1, imgsz: 64, batch: 4, ...train },
    metadata: { hog },
  };
  const res = await call(jobsRoute.POST, { cookie, params: { projectId }, body: { name, priority: "normal", config } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.job.id as string;
}

const ended = (id: string) =>
  waitFor(
    async () => {
      const j = await db.trainingJob.findUniqueOrThrow({ where: { id }, include: { events: { orderBy: { createdAt: "asc" } } } });
      return ["SUCCEEDED", "FAILED", "CANCELLED"].includes(j.status) && j;
    },
    60_000,
    `job ${id} to end`,
  );
/** Whether a process runs (a killed one whose new parent has not reaped it yet is a zombie: not running). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}
const logLines = async (id: string) => (await db.jobLog.findMany({ where: { jobId: id }, orderBy: { seq: "asc" } })).map((l) => l.line);

describe("worker limits from the old service's variables", () => {
  it("names each old variable once at start, with the one to set instead", () => {
    const lines = worker.output().split("\n");
    expect(lines.filter((l) => l.includes("`MINIO_ID` is not used by Wyolo: set S3_ACCESS_KEY_ID"))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("`REDIS_HOST` is not used by Wyolo: set REDIS_URL"))).toHaveLength(1);
    expect(lines.filter((l) => l.includes("is not used by Wyolo"))).toHaveLength(2);
  });

  it("a trainer whose process tree goes past WORKER_RAM_MEMORY is killed, tree and all, and its job fails OUT_OF_MEMORY with a suggestion", async () => {
    const id = await submit("hog", { mb: 3000, stepMb: 64, inChild: true });
    const job = await ended(id);
    expect(job.status, worker.output().slice(-3000)).toBe("FAILED");
    expect(job.failureClass).toBe("OUT_OF_MEMORY");
    expect(job.failureReason).toMatch(/over WORKER_RAM_MEMORY \(1\.0 GiB\)/);
    expect(job.failureReason).toMatch(/smaller `batch`, `cache: false` or fewer dataloader `workers`/);
    // The allocating child (a grandchild of the worker) went with the trainer.
    const childPid = Number(
      (await logLines(id))
        .find((l) => l.startsWith("hog child pid"))
        ?.split(" ")
        .pop(),
    );
    expect(childPid).toBeGreaterThan(0);
    expect(running(childPid)).toBe(false);
    // The worker itself survived and still takes jobs.
    expect(worker.child.exitCode).toBeNull();
  }, 90_000);

  it("a trainer under the limit trains as usual, its dataloader workers capped at its share of WORKER_CPU_CORES", async () => {
    // A config that asks for 8 (one that leaves them out gets its share: task-metrics tests it).
    const id = await submit("small", { mb: 64, stepMb: 32 }, { workers: 8 });
    const job = await ended(id);
    expect(job.status, job.failureReason ?? "").toBe("SUCCEEDED");
    // 3 cores, one job at a time, one core kept for the trainer: 2 instead of the config's 8.
    expect(await logLines(id)).toContain("workers 2");
    expect(job.events.some((e) => e.kind === "limits" && /2 instead of 8/.test(e.message))).toBe(true);
  }, 90_000);
});
