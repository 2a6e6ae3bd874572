// `npm run bench:trainer`: the same 3-epoch CPU training on the synthetic set, run directly with
// Ultralytics and run through the platform (queue → worker → trainer adapter → Postgres), wall
// time ratio. Needs a Python that can import ultralytics (WYOLO_TEST_PYTHON, default
// /usr/bin/python3, PYTHONPATH as set); prints a "skipped" line with the reason otherwise.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { workersKey } from "@wyolo/contracts";

const ROOT = path.resolve(import.meta.dirname, "..");
const python = process.env.WYOLO_TEST_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const PG_ADMIN = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const DB_URL = `${PG_ADMIN.replace(/\/[^/]*$/, "")}/wyolo_bench_trainer`;
const REDIS_URL = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
const QUEUE = `bench-trainer-${process.pid}`;
const EPOCHS = Number(process.env.BENCH_EPOCHS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

// `npm run bench:trainer -- --gpu [options]`: the GPU mode, bench/gpu/gpu_bench.py (it runs on a GPU host
// without Node too: `python3 bench/gpu/gpu_bench.py --help`).
const gpu = process.argv.indexOf("--gpu");
if (gpu >= 0) {
  const run = spawnSync(python, ["bench/gpu/gpu_bench.py", ...process.argv.slice(gpu + 1)], { cwd: ROOT, stdio: "inherit" });
  process.exit(run.status ?? 1);
}

const check = spawnSync(python, ["apps/worker/trainer/train.py", "--check"], { cwd: ROOT, encoding: "utf8" });
const report = (() => {
  try {
    return JSON.parse(check.stdout.trim().split("\n").pop() ?? "{}");
  } catch {
    return {};
  }
})();
if (check.status !== 0 || !report.ok) {
  console.log(JSON.stringify({ name: "trainer_overhead", skipped: report.problem ?? "the trainer check failed" }));
  process.exit(0);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), "wyolo-overhead-"));
const dataset = path.join(tmp, "shapes");
execFileSync(python, ["apps/worker/trainer/make_dataset.py", "detect", dataset, "--train", "64", "--val", "16"], { cwd: ROOT });
const train = { data: path.join(dataset, "data.yaml"), epochs: EPOCHS, imgsz: 128, batch: 16, workers: 0, plots: false, seed: 0 };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function direct(round: number): number {
  const project = path.join(tmp, `direct-${round}`);
  const code = `from ultralytics import YOLO\nYOLO("yolov8n.yaml").train(project=${JSON.stringify(project)}, name="train", exist_ok=True, **${JSON.stringify(train).replace(/false/g, "False")})`;
  const started = performance.now();
  const res = spawnSync(python, ["-c", code], {
    cwd: ROOT,
    env: { ...process.env, YOLO_OFFLINE: "true", YOLO_CONFIG_DIR: path.join(project, ".ultralytics") },
    stdio: "ignore",
  });
  if (res.status !== 0) throw new Error("direct training failed");
  return (performance.now() - started) / 1000;
}

const run = (cmd: string, args: string[], env: Record<string, string>) =>
  execFileSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: "ignore" });
run("npx", ["tsx", "scripts/db.ts", "reset"], { DATABASE_URL: DB_URL });
run("npx", ["prisma", "migrate", "deploy"], { DATABASE_URL: DB_URL, CHECKPOINT_DISABLE: "1" });
run("npx", ["tsx", "prisma/seed.ts"], { DATABASE_URL: DB_URL, ADMIN_PASSWORD: "bench-admin-password", SEED_DEMO: "true" });
const db = new pg.Client({ connectionString: DB_URL });
await db.connect();
const { rows } = await db.query(`SELECT p.id AS "projectId", u.id AS "userId" FROM "Project" p, "User" u LIMIT 1`);
const { projectId, userId } = rows[0];
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const queue = new Queue(QUEUE, { connection: redis });
const worker = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/index.ts"], {
  cwd: ROOT,
  env: {
    ...process.env,
    DATABASE_URL: DB_URL,
    REDIS_URL,
    TRAINING_QUEUE: QUEUE,
    WORKER_NAME: "bench-trainer",
    WORKER_DATA_DIR: path.join(tmp, "worker"),
    TRAINER_COMMAND: `${python} apps/worker/trainer/train.py`,
    LOG_LEVEL: "warn",
  },
  stdio: "ignore",
});
await sleep(8000);

async function platform(round: number): Promise<number> {
  const id = `overhead${round}${Date.now().toString(36)}`;
  const config = { model: "yolov8n.yaml", type: "yolo", task: "detect", train };
  await db.query(
    `INSERT INTO "TrainingJob" (id, "projectId", "createdById", name, config, model, "totalEpochs", "updatedAt") VALUES ($1, $2, $3, $1, $4, 'yolov8n.yaml', $5, now())`,
    [id, projectId, userId, JSON.stringify(config), EPOCHS],
  );
  const started = performance.now();
  await queue.add("train", { jobId: id }, { jobId: id });
  for (;;) {
    const { rows: r } = await db.query(`SELECT status, "failureReason" FROM "TrainingJob" WHERE id = $1`, [id]);
    if (r[0].status === "SUCCEEDED") return (performance.now() - started) / 1000;
    if (r[0].status === "FAILED" || r[0].status === "CANCELLED") throw new Error(`platform run ${r[0].status}: ${r[0].failureReason}`);
    await sleep(50);
  }
}

try {
  const d: number[] = [];
  const p: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    d.push(direct(i));
    p.push(await platform(i));
  }
  console.log(
    JSON.stringify({
      name: "trainer_overhead",
      device: "cpu",
      epochs: EPOCHS,
      rounds: ROUNDS,
      ultralytics: report.ultralytics,
      torch: report.torch,
      direct_s: d.map((x) => Math.round(x * 100) / 100),
      platform_s: p.map((x) => Math.round(x * 100) / 100),
      ratio_median: Math.round((median(p) / median(d)) * 1000) / 1000,
      goal: "≤ 1.05 (CPU), ≤ 1.01 (GPU)",
    }),
  );
} finally {
  worker.kill("SIGTERM");
  await new Promise((r) => worker.on("exit", r));
  await queue.obliterate({ force: true });
  await redis.del(workersKey(QUEUE)); // its worker's report: not for a real Workers page
  await queue.close();
  redis.disconnect();
  await db.end();
}
process.exit(0);
