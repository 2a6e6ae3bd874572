// `npm run bench`: the platform's performance figures against the local Postgres and Redis.
// Prints one JSON line per figure. Starts its own web server (the production build) and
// worker on a database and queues of their own, and stops them at the end.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { parseTrainingConfig, TRAIN_JOB_NAME, workersKey } from "@wyolo/contracts";
import { io } from "socket.io-client";
import { workerEnvSchema } from "../apps/worker/src/env.ts";
import { liveTrainers, percentile } from "../test/integration/process-table.ts";
import { BENCH_ADMIN, benchDbUrl, ensureWebBuild, prepareBenchDatabase, Processes, REDIS_URL, run, sleep } from "./stack.ts";

const DB_URL = benchDbUrl("wyolo_bench");
const PORT = Number(process.env.BENCH_PORT ?? 3310);
const BASE = `http://127.0.0.1:${PORT}`;
const QUEUE = `bench-${process.pid}`;
const ADMIN = BENCH_ADMIN;
const processes = new Processes();
const start = (args: string[], env: Record<string, string>) => processes.start(args, env);
const stopAll = () => processes.stopAll();
// `BENCH_ONLY=worker_loss_resume` runs that figure alone (it needs no web server or build).
const ONLY = process.env.BENCH_ONLY;

const pct = (xs: number[], p: number) => Math.round(percentile(xs, p) * 10) / 10;
const report = (fig: Record<string, unknown>) => console.log(JSON.stringify(fig));
const info = (msg: string) => console.error(`bench: ${msg}`);

/** A tiny cookie-keeping client for the web API. */
class Api {
  cookies = new Map<string, string>();
  async req(method: string, url: string, body?: unknown, form = false) {
    // As the dashboard's pages send it: signed-in changes are accepted only from its own origin.
    const headers: Record<string, string> = { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "), origin: BASE };
    if (body !== undefined) headers["content-type"] = form ? "application/x-www-form-urlencoded" : "application/json";
    const res = await fetch(BASE + url, {
      method,
      headers,
      redirect: "manual",
      body: body === undefined ? undefined : form ? new URLSearchParams(body as Record<string, string>) : JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(";");
      const i = pair!.indexOf("=");
      this.cookies.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    return res;
  }
  async json<T>(method: string, url: string, body?: unknown): Promise<T> {
    const res = await this.req(method, url, body);
    if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  }
}

async function pool<T>(n: number, concurrency: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

const config = (extra: Record<string, unknown> = {}) => ({ model: "yolo11n.pt", train: { data: "shapes/data.yaml", epochs: 1, ...extra } });

async function main() {
  info("preparing database, build and servers");
  await prepareBenchDatabase(DB_URL);
  await ensureWebBuild();

  const common = { DATABASE_URL: DB_URL, REDIS_URL, TRAINING_QUEUE: QUEUE };
  await processes.startWeb(PORT, { ...common, WEB_CONCURRENCY: process.env.WEB_CONCURRENCY ?? "2" });
  const api = new Api();
  const { csrfToken } = await api.json<{ csrfToken: string }>("GET", "/api/auth/csrf");
  await api.req("POST", "/api/auth/callback/credentials", { csrfToken, ...ADMIN, json: "true" }, true);
  const team = (await api.json<{ team: { id: string } }>("POST", "/api/v1/teams", { name: "Bench", slug: "bench" })).team;
  const project = (
    await api.json<{ project: { id: string } }>("POST", `/api/v1/teams/${team.id}/projects`, { name: "Bench", slug: "bench" })
  ).project;
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE, { connection: redis });
  const db = new pg.Client({ connectionString: DB_URL });
  await db.connect();

  // ── Submission throughput through the HTTP API, beside raw BullMQ add ──────────────────
  {
    const n = 2000;
    // Warm-up: the JIT and both web processes settle within a few hundred requests.
    await pool(600, 8, () => api.req("POST", `/api/v1/projects/${project.id}/jobs`, { config: config() }).then((r) => r.arrayBuffer()));
    for (const concurrency of [8, 16]) {
      const latencies: number[] = [];
      const t0 = performance.now();
      await pool(n, concurrency, async () => {
        const s = performance.now();
        const res = await api.req("POST", `/api/v1/projects/${project.id}/jobs`, { config: config() });
        if (res.status !== 201) throw new Error(`submit → ${res.status}`);
        await res.arrayBuffer();
        latencies.push(performance.now() - s);
      });
      const secs = (performance.now() - t0) / 1000;
      report({
        name: "submit_throughput_api",
        n,
        concurrency,
        web_processes: Number(process.env.WEB_CONCURRENCY ?? 2),
        jobs_per_s: Math.round(n / secs),
        p50_ms: pct(latencies, 50),
        p99_ms: pct(latencies, 99),
        goal: "≥ 300 jobs/s, p99 ≤ 100 ms",
      });
    }
    const concurrency = 16;
    const raw = new Queue(`${QUEUE}-raw`, { connection: redis });
    const r0 = performance.now();
    await pool(n, concurrency, (i) => raw.add("train", { jobId: `raw${i}` }, { jobId: `raw${i}`, priority: 5 }));
    report({ name: "bullmq_add_throughput", n, concurrency, jobs_per_s: Math.round(n / ((performance.now() - r0) / 1000)) });
    await raw.obliterate({ force: true });
    await raw.close();
    await queue.obliterate({ force: true });
    await db.query(`DELETE FROM "TrainingJob"`);
  }

  // ── First page of a project's job list with 100,000 jobs ───────────────────────────────
  {
    const big = (await api.json<{ project: { id: string } }>("POST", `/api/v1/teams/${team.id}/projects`, { name: "Big", slug: "big" }))
      .project;
    const adminId = (await db.query(`SELECT id FROM "User" WHERE email = $1`, [ADMIN.email])).rows[0].id;
    await db.query(
      `INSERT INTO "TrainingJob" (id, "projectId", "createdById", name, config, status, model, "totalEpochs", "createdAt", "updatedAt")
       SELECT 'bulk' || g, $1, $2, 'job ' || g, '{}'::jsonb,
              (ARRAY['QUEUED','RUNNING','SUCCEEDED','FAILED','CANCELLED'])[1 + g % 5]::"JobStatus", 'yolo11n.pt', 100,
              now() - (g || ' seconds')::interval, now()
       FROM generate_series(1, 100000) g`,
      [big.id, adminId],
    );
    await db.query(`ANALYZE "TrainingJob"`);
    for (const [label, query] of [
      ["newest", ""],
      ["status_filter", "&status=FAILED"],
      ["page_10", "CURSOR"],
    ] as const) {
      let q: string = query;
      if (query === "CURSOR") {
        let cursor = "";
        for (let p = 0; p < 9; p++)
          cursor = (
            await api.json<{ nextCursor: string }>("GET", `/api/v1/projects/${big.id}/jobs?limit=25${cursor ? `&cursor=${cursor}` : ""}`)
          ).nextCursor;
        q = `&cursor=${cursor}`;
      }
      const times: number[] = [];
      for (let i = 0; i < 60; i++) {
        const s = performance.now();
        const res = await api.req("GET", `/api/v1/projects/${big.id}/jobs?limit=25${q}`);
        await res.arrayBuffer();
        if (i >= 10) times.push(performance.now() - s);
      }
      report({
        name: `job_list_first_page_100k_${label}`,
        rows: 100_000,
        n: times.length,
        p50_ms: pct(times, 50),
        p99_ms: pct(times, 99),
        note: "HTTP round trip on loopback (an upper bound of server time)",
        goal: "≤ 50 ms",
      });
    }
    await db.query(`DELETE FROM "TrainingJob"`);
  }

  // ── Dispatch latency: API accepted → trainer process started ──────────────────────────
  {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-bench-"));
    const worker = start(["--import", "tsx", "apps/worker/src/index.ts"], {
      ...common,
      WORKER_NAME: "bench",
      WORKER_DATA_DIR: dataDir,
      TRAINER_COMMAND: "sh bench/fixtures/instant-trainer.sh",
      TRAINER_CHECK: "false",
      FLUSH_INTERVAL_MS: "50",
    });
    const adminId = (await db.query(`SELECT id FROM "User" WHERE email = $1`, [ADMIN.email])).rows[0].id;
    // Fillers: low-priority entries whose rows are already cancelled, so the worker keeps
    // draining a backlog; it is topped up to 1,000 before every measured job.
    let filler = 0;
    const topUp = async () => {
      const waiting = await queue.getJobCountByTypes("prioritized", "waiting");
      const need = 1000 - waiting;
      if (need <= 0) return;
      const ids = Array.from({ length: need }, () => `filler${filler++}`);
      await db.query(
        `INSERT INTO "TrainingJob" (id, "projectId", "createdById", name, config, status, "updatedAt") SELECT unnest($1::text[]), $2, $3, 'filler', '{}'::jsonb, 'CANCELLED', now()`,
        [ids, project.id, adminId],
      );
      await queue.addBulk(
        ids.map((id) => ({ name: "train", data: { jobId: id }, opts: { jobId: id, priority: 10, removeOnComplete: true } })),
      );
    };
    await topUp();
    await sleep(3000); // worker boot
    const latencies: number[] = [];
    for (let i = 0; i < 210; i++) {
      await topUp();
      const backlog = await queue.getJobCountByTypes("prioritized", "waiting");
      const res = await api.req("POST", `/api/v1/projects/${project.id}/jobs`, { priority: "high", config: config() });
      const accepted = Date.now();
      const { job } = (await res.json()) as { job: { id: string } };
      const file = path.join(dataDir, "jobs", job.id, "started_at");
      for (let w = 0; !existsSync(file) || !readFileSync(file, "utf8").trim(); w++) {
        if (w > 2000) throw new Error("trainer never started");
        await sleep(1);
      }
      if (i >= 10) latencies.push(Number(readFileSync(file, "utf8")) - accepted);
      if (i === 10) info(`dispatch: backlog of ${backlog} lower-priority entries while measuring`);
    }
    report({
      name: "dispatch_latency",
      n: latencies.length,
      backlog_lower_priority: 1000,
      p50_ms: pct(latencies, 50),
      p99_ms: pct(latencies, 99),
      max_ms: Math.max(...latencies),
      goal: "p99 ≤ 100 ms (polling every 5 s: 2,500 ms on average)",
    });
    worker.kill("SIGTERM");
    await new Promise((r) => worker.on("exit", r));
    await queue.obliterate({ force: true });
  }
  await Promise.all([queue.close(), db.end()]);
  redis.disconnect();
}

async function events() {
  // ── Event latency: trainer writes an event → a subscribed socket.io client has it ──────
  const api = new Api();
  const { csrfToken } = await api.json<{ csrfToken: string }>("GET", "/api/auth/csrf");
  await api.req("POST", "/api/auth/callback/credentials", { csrfToken, ...ADMIN, json: "true" }, true);
  const project = (await api.json<{ teams: { id: string }[] }>("GET", "/api/v1/teams")).teams[0]!;
  const projects = await api.json<{ projects: { id: string }[] }>("GET", `/api/v1/teams/${project.id}/projects`);
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-bench-ev-"));
  start(["--import", "tsx", "apps/worker/src/index.ts"], {
    DATABASE_URL: DB_URL,
    REDIS_URL,
    TRAINING_QUEUE: QUEUE,
    WORKER_NAME: "bench-events",
    WORKER_DATA_DIR: dataDir,
    TRAINER_COMMAND: "node bench/fixtures/event-trainer.mjs",
    TRAINER_CHECK: "false",
  });
  const socket = io(BASE, {
    path: "/socket.io",
    transports: ["websocket"],
    extraHeaders: { cookie: [...api.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
  });
  await new Promise<void>((resolve, reject) => (socket.on("connect", resolve), socket.on("connect_error", reject)));
  const n = 500;
  const res = await api.req("POST", `/api/v1/projects/${projects.projects[0]!.id}/jobs`, { config: config({ epochs: n }) });
  const { job } = (await res.json()) as { job: { id: string } };
  const latencies: number[] = [];
  const done = new Promise<void>((resolve) => {
    socket.on("job:epoch", ({ jobId, epoch }: { jobId: string; epoch: { epoch: number; metrics: Record<string, number> } }) => {
      if (jobId !== job.id) return;
      latencies.push(Date.now() - epoch.metrics["bench/sent_ms"]!);
      if (epoch.epoch === n) resolve();
    });
  });
  await new Promise((r) => socket.emit("subscribe", { jobId: job.id }, r));
  await Promise.race([done, sleep(60_000).then(() => Promise.reject(new Error(`only ${latencies.length}/${n} events arrived`)))]);
  report({
    name: "event_latency",
    n: latencies.length,
    p50_ms: pct(latencies, 50),
    p99_ms: pct(latencies, 99),
    max_ms: Math.max(...latencies),
    goal: "p99 ≤ 50 ms",
  });
  socket.close();
}

// ── Worker loss: SIGKILL of a job's worker → its trainer started again on another ───────
// Three workers with the default loss-detection settings, and one CPU-bound process per core
// beside them (a training's load). The reference, measured in the same run, is the part of the
// figure that is this machine's: starting a trainer process and a Redis round trip.
async function workerLossResume() {
  const kills = Number(process.env.BENCH_KILLS ?? 6);
  const defaults = workerEnvSchema.parse({});
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "wyolo-bench-loss-"));
  const queueName = `${QUEUE}-loss`;
  const db = new pg.Client({ connectionString: DB_URL });
  await db.connect();
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection: redis });
  const workers = new Set<ChildProcess>();
  const startWorker = (n: number) => {
    // Losses are what this measures: the job may be lost more often than a job is by default.
    const w = start(["--import", "tsx", "apps/worker/src/index.ts"], {
      DATABASE_URL: DB_URL,
      REDIS_URL,
      TRAINING_QUEUE: queueName,
      WORKER_NAME: `bench-loss-${n}`,
      WORKER_DATA_DIR: dataDir,
      TRAINER_COMMAND: "node apps/worker/test/fixtures/fake-trainer.mjs",
      WORKER_MAX_LOSSES: String(kills + 5),
    });
    workers.add(w);
    w.on("exit", () => workers.delete(w));
  };
  const burners = Array.from({ length: os.availableParallelism() }, () => start(["-e", "for (;;) {}"], {}));
  try {
    // Reference: a trainer process's start (node, to its first line) and a Redis round trip.
    const spawns: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t0 = performance.now();
      await run(process.execPath, ["apps/worker/test/fixtures/fake-trainer.mjs", "--check"]);
      spawns.push(performance.now() - t0);
    }
    const rtts: number[] = [];
    for (let i = 0; i < 50; i++) {
      const t0 = performance.now();
      await redis.ping();
      rtts.push(performance.now() - t0);
    }

    const adminId = (await db.query(`SELECT id FROM "User" WHERE email = $1`, [ADMIN.email])).rows[0].id;
    await db.query(
      `INSERT INTO "Team" (id, name, slug, "updatedAt") VALUES ('benchloss', 'Loss', 'bench-loss', now()) ON CONFLICT DO NOTHING`,
    );
    await db.query(
      `INSERT INTO "Project" (id, "teamId", name, slug, "updatedAt") VALUES ('benchloss', 'benchloss', 'Loss', 'loss', now()) ON CONFLICT DO NOTHING`,
    );
    const epochs = 12 * kills;
    const parsed = parseTrainingConfig({
      model: "yolov8n.yaml",
      train: { data: "shapes/data.yaml", epochs, imgsz: 64, batch: 4 },
      metadata: { fake: { delayMs: 300 } },
    });
    if (!parsed.ok) throw new Error(`bench config: ${JSON.stringify(parsed.issues)}`);
    const jobId = `benchloss${Date.now()}`;
    await db.query(
      `INSERT INTO "TrainingJob" (id, "projectId", "createdById", name, config, model, task, "totalEpochs", "updatedAt") VALUES ($1, 'benchloss', $2, 'worker loss', $3::jsonb, $4, $5, $6, now())`,
      [jobId, adminId, JSON.stringify(parsed.config), parsed.config.model, parsed.config.task, epochs],
    );
    for (let i = 0; i < 3; i++) startWorker(i);
    let next = 3;
    await queue.add(TRAIN_JOB_NAME, { jobId }, { jobId });
    const trainerOf = async (after: number, timeoutMs: number) => {
      for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(50)) {
        const t = (await liveTrainers()).find((p) => p.jobId === jobId && p.startedAt > after);
        if (t) return t;
      }
      throw new Error(`no trainer of the job started within ${timeoutMs} ms`);
    };
    const epochOf = async () =>
      (await db.query(`SELECT "currentEpoch" FROM "TrainingJob" WHERE id = $1`, [jobId])).rows[0].currentEpoch ?? 0;
    let trainer = await trainerOf(0, 60_000);
    const seconds: number[] = [];
    for (let k = 0; k < kills; k++) {
      const before = await epochOf();
      for (let w = 0; (await epochOf()) <= before; w++) {
        if (w > 600) throw new Error("the job made no progress");
        await sleep(100);
      }
      const owner = [...workers].find((w) => w.pid === trainer.ppid);
      if (!owner) throw new Error(`the trainer's parent ${trainer.ppid} is not a bench worker`);
      const killedAt = Date.now();
      owner.kill("SIGKILL");
      startWorker(next++);
      trainer = await trainerOf(killedAt, 60_000);
      seconds.push((trainer.startedAt - killedAt) / 1000);
      info(`worker loss ${k + 1}/${kills}: trainer started again after ${seconds.at(-1)!.toFixed(2)} s`);
    }
    report({
      name: "worker_loss_resume",
      kills,
      p50_s: Math.round(percentile(seconds, 50) * 100) / 100,
      p99_s: Math.round(percentile(seconds, 99) * 100) / 100,
      max_s: Math.round(Math.max(...seconds) * 100) / 100,
      limit_s: 15,
      lock_duration_ms: defaults.LOCK_DURATION_MS,
      stalled_interval_ms: defaults.STALLED_INTERVAL_MS,
      reference_trainer_spawn_ms: pct(spawns, 50),
      reference_redis_rtt_ms: Math.round(percentile(rtts, 50) * 100) / 100,
      // What the design allows on this machine: the lock lapses between 3/4 of its duration and its
      // whole duration after the kill (renewed every quarter), is found within a stalled interval,
      // and a trainer is started.
      expected_range_s: [
        Math.round((defaults.LOCK_DURATION_MS * 0.75 + pct(spawns, 50)) / 100) / 10,
        Math.round((defaults.LOCK_DURATION_MS + defaults.STALLED_INTERVAL_MS + pct(spawns, 50)) / 100) / 10,
      ],
      load: `${burners.length} CPU-bound processes`,
      goal: "p99 ≤ 15 s (SIGKILL → trainer started again)",
    });
  } finally {
    for (const b of burners) b.kill("SIGKILL");
    await Promise.all([...workers].map((w) => (w.kill("SIGTERM"), new Promise((r) => w.on("exit", r)))));
    await queue.obliterate({ force: true }).catch(() => {});
    await redis.del(workersKey(queueName)).catch(() => {});
    await queue.close();
    redis.disconnect();
    await db.end();
  }
}

/** Benchmarks that run as scripts of their own: BENCH_ONLY key → bench/<file>. */
const STANDALONE: [string, string][] = [
  ["compare", "compare.ts"],
  ["resources", "resources.ts"],
  ["dataset_validate", "dataset-validate.ts"],
  ["dataset_cache", "dataset-cache.ts"],
];

function runStandalone(script: string) {
  info(`running bench/${script}`);
  return new Promise<void>((resolve, reject) => {
    const child = spawn("npx", ["tsx", path.join("bench", script)], { stdio: ["ignore", "inherit", "inherit"] });
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`bench/${script} exited ${code}`))));
  });
}

try {
  if (!ONLY) {
    await main();
    await events();
  } else {
    info("preparing database");
    await prepareBenchDatabase(DB_URL);
  }
  if (!ONLY || ONLY === "worker_loss_resume") await workerLossResume();
  if (!ONLY || ONLY === "cli_follow") await (await import("./cli-follow.ts")).cliFollowBench(report);
  // Figures of their own processes (each prints its JSON lines): `BENCH_ONLY=<key>` runs one alone.
  for (const [key, script] of STANDALONE) if (!ONLY || ONLY === key) await runStandalone(script);
} finally {
  await stopAll();
  // The bench's workers leave their reports behind: not for a real Workers page.
  const redis = new Redis(REDIS_URL);
  await redis.del(workersKey(QUEUE)).catch(() => {});
  redis.disconnect();
}
process.exit(0);
