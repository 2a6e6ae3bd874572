import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { inputBoundHint, type ClassMetrics, type ResourceSample } from "@wyolo/contracts";
import { db } from "@/server/db";
import { trainingQueue } from "@/server/queue";
import * as jobsRoute from "@/app/api/v1/projects/[projectId]/jobs/route";
import * as resourcesRoute from "@/app/api/v1/jobs/[jobId]/resources/route";
import { call, createTeamWith, createUser, sessionCookie } from "./helpers";
import { startPgProxy } from "./pg-proxy";
import { startWorker, waitFor, type WorkerHandle } from "./worker-harness";

// Issue 11 §2: a running job's resource series — recorded (the fixture's nvidia-smi for its GPU, /proc for
// its trainer), live, bounded by merging, answered by the API, removed with the job — and the per-class
// metrics of its `finished` event stored with its final state.
const MAX_ROWS = 16;
let worker: WorkerHandle;
let cookie: string;
let outsiderCookie: string;
let projectId: string;
const sub = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const published: string[] = [];

beforeAll(async () => {
  const [member, outsider] = await Promise.all([createUser(), createUser()]);
  const team = await createTeamWith([{ userId: member.id, role: "MEMBER" }]);
  await createTeamWith([{ userId: outsider.id, role: "OWNER" }]);
  projectId = (await db.project.create({ data: { teamId: team.id, name: "R", slug: "r" } })).id;
  [cookie, outsiderCookie] = await Promise.all([sessionCookie(member), sessionCookie(outsider)]);
  await sub.psubscribe("socket.io#/#job:*");
  sub.on("pmessageBuffer", (_p: Buffer, _c: Buffer, message: Buffer) => published.push(message.toString("latin1")));
  worker = startWorker(`resources-${process.pid}`, GPU_WORKER);
  await worker.ready;
}, 60_000);

afterAll(async () => {
  await worker.stop();
  sub.disconnect();
  await trainingQueue.obliterate({ force: true });
});

const GPU_WORKER = {
  NVIDIA_SMI: "apps/worker/test/fixtures/fake-nvidia-smi.sh",
  FAKE_GPU_UTIL: "7",
  RESOURCE_SAMPLE_MS: "1000",
  RESOURCE_MAX_ROWS: String(MAX_ROWS),
};

async function submit(name: string, epochs: number, delayMs: number) {
  const res = await call(jobsRoute.POST, {
    cookie,
    params: { projectId },
    body: { name, config: { model: "yolo11n.yaml", gpus: 1, train: { data: "d/data.yaml", epochs }, metadata: { fake: { delayMs } } } },
  });
  expect(res.status).toBe(201);
  return res.body.job.id as string;
}
const rows = (jobId: string) => db.jobResourceSample.findMany({ where: { jobId }, orderBy: { at: "asc" } });

describe("a job's resource series", () => {
  let jobId: string;

  it("is sampled while the trainer runs, live and in batches, on the job's own GPU", async () => {
    // 24 epochs of 1 s: about 24 samples at 1 s, more than the bound of 16 rows.
    jobId = await submit("sampled", 24, 1000);
    await waitFor(async () => (await rows(jobId)).length >= 3, 20_000, "the first batch of samples");
    const first = (await rows(jobId))[0]!;
    // GPU 0 of the fixture (GPU 1 is placed second): its load and memory as nvidia-smi says.
    expect(first.gpus).toEqual([{ index: 0, util: 2, memUsedMb: 600, memTotalMb: 24576 }]);
    expect([first.gpuUtil, first.gpuMemUsedMb]).toEqual([2, 600]);
    // The fake trainer is a node process: its share of memory (PSS: pages shared with other processes count in part), a CPU figure.
    expect(Number(first.rssBytes)).toBeGreaterThan(1024 * 1024);
    expect(first.cpuPercent).toBeGreaterThanOrEqual(0);
    expect(first.hostCpuPercent).toBeGreaterThanOrEqual(0);
    expect(first.hostCpuPercent).toBeLessThanOrEqual(100);
    // Each sample also went to the job's room as it was taken.
    const live = published.filter((m) => m.includes("job:resources") && m.includes(jobId));
    expect(live.length).toBeGreaterThanOrEqual(3);
    expect(live[0]).toContain("cpuPercent");
  }, 40_000);

  it("stays within its bound by merging older samples, covering the whole run; the API answers it", async () => {
    await waitFor(
      async () => (await db.trainingJob.findUniqueOrThrow({ where: { id: jobId } })).status === "SUCCEEDED",
      60_000,
      "the job to succeed",
    );
    const stored = await rows(jobId);
    const live = published.filter((m) => m.includes("job:resources") && m.includes(jobId)).length;
    expect(live).toBeGreaterThan(MAX_ROWS);
    expect(stored.length).toBeLessThanOrEqual(MAX_ROWS);
    expect(stored.length).toBeGreaterThanOrEqual(MAX_ROWS - 1);
    // Merged rows cover more than one sample; together the rows cover every sample's span.
    expect(Math.max(...stored.map((r) => r.spanSeconds))).toBeGreaterThan(1);
    const covered = stored.reduce((s, r) => s + r.spanSeconds, 0);
    expect(covered).toBeGreaterThanOrEqual(live - 1);
    // The newest samples are whole.
    expect(stored.slice(-3).every((r) => r.spanSeconds === 1)).toBe(true);

    const res = await call(resourcesRoute.GET, { cookie, params: { jobId } });
    expect(res.status).toBe(200);
    const samples = res.body.samples as ResourceSample[];
    expect(samples.map((s) => s.at)).toEqual(stored.map((r) => r.at.toISOString()));
    expect(samples[0]).toMatchObject({ gpuUtil: 2, gpus: [{ index: 0 }] });
    // 2 % on a GPU while the CPUs idle: not input-bound.
    expect(inputBoundHint(samples)).toBeNull();
    // Another team's job is not found.
    expect((await call(resourcesRoute.GET, { cookie: outsiderCookie, params: { jobId } })).status).toBe(404);
  }, 70_000);

  it("stores the final validation's per-class metrics with the final state", async () => {
    const job = await db.trainingJob.findUniqueOrThrow({ where: { id: jobId }, select: { classMetrics: true } });
    const classes = job.classMetrics as ClassMetrics[];
    expect(classes.map((c) => c.name)).toEqual(["circle", "square", "triangle"]);
    expect(classes[0]).toMatchObject({ id: 0, images: 6, instances: 9, box: { p: expect.any(Number) } });
    expect(classes[1]).toEqual({ id: 1, name: "square", images: 0, instances: 0 });
  });

  it("is removed with the job", async () => {
    expect((await rows(jobId)).length).toBeGreaterThan(0);
    await db.trainingJob.delete({ where: { id: jobId } });
    expect(await db.jobResourceSample.count({ where: { jobId } })).toBe(0);
  });
});

describe("Postgres away while a job is sampled", () => {
  let pg: Awaited<ReturnType<typeof startPgProxy>>;
  let cut: WorkerHandle;

  beforeAll(async () => {
    await worker.stop(); // this block's worker alone takes the job
    pg = await startPgProxy(process.env.DATABASE_URL!);
    cut = startWorker(`resources-outage-${process.pid}`, { ...GPU_WORKER, DATABASE_URL: pg.url });
    await cut.ready;
  }, 60_000);

  afterAll(async () => {
    await pg.restore().catch(() => {});
    await cut?.stop();
    await pg.cut();
  });

  it("keeps the samples taken meanwhile (within the bound) and writes them once it is back", async () => {
    const id = await submit("through an outage", 22, 1000);
    await waitFor(async () => (await rows(id)).length >= 3, 20_000, "the first samples");
    await pg.cut();
    const cutAt = Date.now();
    await new Promise((r) => setTimeout(r, 7_000));
    await pg.restore();
    const restoredAt = Date.now();
    await waitFor(
      async () => (await db.trainingJob.findUniqueOrThrow({ where: { id } })).status === "SUCCEEDED",
      90_000,
      "the job to succeed",
    );
    const stored = await rows(id);
    const live = published.filter((m) => m.includes("job:resources") && m.includes(id)).length;
    expect(stored.length).toBeLessThanOrEqual(MAX_ROWS);
    // Every sample is in some row, those of the outage too: the rows cover the outage's seconds.
    expect(stored.reduce((n, r) => n + r.spanSeconds, 0)).toBeGreaterThanOrEqual(live - 1);
    const during = stored.filter((r) => r.at.getTime() + r.spanSeconds * 1000 > cutAt && r.at.getTime() < restoredAt);
    expect(during.reduce((n, r) => n + r.spanSeconds, 0)).toBeGreaterThanOrEqual(5);
    expect(cut.output()).toContain("resource samples not written; kept in memory");
  }, 150_000);
});
