import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { workersKey, type WorkerReport } from "@wyolo/contracts";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

let worker: WorkerHandle;
let cookie: string;
let projectId: string;
const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const name = `gpu-host-${process.pid}`;

beforeAll(async () => {
  const member = await createUser();
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "G", slug: "g" } })).id;
  cookie = await sessionCookie(member);
  // A host with two GPUs (the fixture's nvidia-smi); GPU 1 is above the 60% load ceiling.
  worker = startWorker(name, {
    NVIDIA_SMI: "apps/worker/test/fixtures/fake-nvidia-smi.sh",
    FAKE_GPU_UTIL: "95",
    MAX_GPU: "60",
    GPU_WAIT_RETRY_MS: "300",
    REPORT_INTERVAL_MS: "500",
  });
  await worker.ready;
});

afterAll(async () => {
  await worker.stop();
  await redis.hdel(workersKey(process.env.TRAINING_QUEUE!), name);
  redis.disconnect();
  await trainingQueue.obliterate({ force: true });
});

async function submit(jobName: string, epochs: number, delayMs: number, gpus?: number) {
  const res = await call(jobsRoute.POST, {
    cookie,
    params: { projectId },
    body: {
      name: jobName,
      config: {
        model: "yolo11n.yaml",
        ...(gpus !== undefined ? { gpus } : {}),
        train: { data: "d/data.yaml", epochs },
        metadata: { fake: { delayMs } },
      },
    },
  });
  expect(res.status).toBe(201);
  return res.body.job.id as string;
}
const status = async (id: string) => (await db.trainingJob.findUniqueOrThrow({ where: { id } })).status;
const log = async (id: string) => (await db.jobLog.findMany({ where: { jobId: id }, orderBy: { seq: "asc" } })).map((l) => l.line);
const report = async () => JSON.parse((await redis.hget(workersKey(process.env.TRAINING_QUEUE!), name)) ?? "null") as WorkerReport | null;

describe("GPU placement", () => {
  it("reports the worker and its GPUs, one slot per GPU", async () => {
    const r = await waitFor(report, 5_000, "a worker report");
    expect(r).toMatchObject({ name, concurrency: 2, trainer: { ok: true } });
    expect(r.gpus.map((g) => [g.index, g.utilizationPercent, g.memoryFreeMb])).toEqual([
      [0, 2, 23976],
      [1, 95, 23976],
    ]);
  });

  it("gives a job its own GPU through CUDA_VISIBLE_DEVICES, and holds the next one back while no GPU qualifies", async () => {
    const first = await submit("on gpu 0", 20, 150);
    await waitFor(async () => (await status(first)) === "RUNNING", 10_000, "the first job to run");
    // RUNNING is written at once; log lines follow with the recorder's next batch.
    await waitFor(async () => (await log(first)).includes("CUDA_VISIBLE_DEVICES=0 device=0"), 5_000, "the job's log to name GPU 0");
    const onGpu = await waitFor(
      async () => (await report())?.gpus.find((g) => g.jobId === first),
      5_000,
      "the report to show the job on GPU 0",
    );
    expect(onGpu.index).toBe(0);

    // The Workers API names the job for readers of its project only.
    const workersRoute = await import("@/app/api/v1/workers/route");
    const mine = (await call(workersRoute.GET, { cookie })).body.workers.find((w: { name: string }) => w.name === name);
    expect(mine).toMatchObject({ online: true, concurrency: 2 });
    expect(mine.gpus[0].job).toMatchObject({ id: first, name: "on gpu 0" });
    expect(mine.gpus[1].job).toBeNull();
    const outsider = await sessionCookie(await createUser());
    const theirs = (await call(workersRoute.GET, { cookie: outsider })).body.workers.find((w: { name: string }) => w.name === name);
    expect(theirs.gpus[0].job).toEqual({ id: null, name: null });

    // GPU 1 is over the load ceiling: the second job waits in the queue, with a timeline entry.
    const second = await submit("waits", 2, 10);
    await waitFor(
      async () => (await db.jobEvent.findFirst({ where: { jobId: second, kind: "waiting" } }))?.message,
      5_000,
      "a waiting entry",
    );
    expect(await status(second)).toBe("QUEUED");
    expect((await db.jobEvent.findFirst({ where: { jobId: second, kind: "waiting" } }))!.message).toContain("load ≤ 60%");

    // When the first job ends, GPU 0 is free again and the second job gets it.
    await call((await import("@/app/api/v1/jobs/[jobId]/cancel/route")).POST, { cookie, params: { jobId: first } });
    await waitFor(async () => (await status(second)) === "SUCCEEDED", 20_000, "the second job to finish");
    expect(await log(second)).toContain("CUDA_VISIBLE_DEVICES=0 device=0");
  });

  it("runs a CPU job (gpus: 0) with every GPU hidden", async () => {
    const id = await submit("cpu only", 1, 10, 0);
    await waitFor(async () => (await status(id)) === "SUCCEEDED", 10_000, "the CPU job");
    expect(await log(id)).toContain("CUDA_VISIBLE_DEVICES= device=cpu");
  });
});
