// `npx tsx bench/cli-follow.ts` (and a figure of `npm run bench`): how long after the worker
// records an epoch (JobEpoch.createdAt) `wyolo submit --follow` prints it, beside a reference
// measured in the same run: a plain socket.io client subscribed to the same job, which is the
// floor the CLI's live path can reach. Starts its own web server (the production build, from
// NEXT_DIST_DIR if set) and worker with the fixture trainer, on a database and queue of their own.
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import pg from "pg";
import { workersKey } from "@wyolo/contracts";
import { io } from "socket.io-client";
import { percentile } from "../test/integration/process-table.ts";
import { benchDbUrl, ensureWebBuild, prepareBenchDatabase, Processes, REDIS_URL, ROOT, seedBenchTeam } from "./stack.ts";

const DB_URL = benchDbUrl("wyolo_bench_cli");
const PORT = Number(process.env.BENCH_CLI_PORT ?? 5350);
const BASE = `http://127.0.0.1:${PORT}`;
const QUEUE = `bench-cli-${process.pid}`;
const EPOCHS = Number(process.env.BENCH_CLI_EPOCHS ?? 20);
const DELAY_MS = Number(process.env.BENCH_CLI_DELAY_MS ?? 300);
const JOBS_PER_MODE = Number(process.env.BENCH_CLI_JOBS ?? 2);
const BIN = path.join(ROOT, "packages/cli/bin/wyolo.js");

const info = (msg: string) => console.error(`bench cli-follow: ${msg}`);
const pct = (xs: number[], p: number) => (xs.length ? Math.round(percentile(xs, p)) : null);

/** One job through `wyolo submit --follow`: when each epoch line reached us, and when the reference socket got it. */
async function followOnce(configFile: string, mode: "json" | "table", env: Record<string, string>, token: string) {
  const cliAt = new Map<number, number>();
  const refAt = new Map<number, number>();
  const socket = io(BASE, { path: "/socket.io", transports: ["websocket"], auth: { token } });
  await new Promise<void>((resolve, reject) => (socket.once("connect", resolve), socket.once("connect_error", reject)));
  socket.on("job:epoch", (p: { epoch: { epoch: number } }) => refAt.set(p.epoch.epoch, Date.now()));
  const child = spawn(process.execPath, [BIN, "submit", configFile, "--follow", ...(mode === "json" ? ["--json"] : [])], {
    cwd: ROOT,
    env: { PATH: process.env.PATH!, HOME: os.tmpdir(), ...env } as unknown as NodeJS.ProcessEnv,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr!.on("data", (d) => (stderr += d));
  let jobId = "";
  let subscribed = false;
  for await (const line of createInterface({ input: child.stdout! })) {
    const now = Date.now();
    if (mode === "json") {
      const ev = JSON.parse(line) as { type: string; job?: { id: string }; epoch?: { epoch: number } };
      if (ev.type === "submitted") jobId = ev.job!.id;
      if (ev.type === "epoch") cliAt.set(ev.epoch!.epoch, now);
    } else {
      const submitted = /^Job (\w+) /.exec(line);
      if (submitted) jobId = submitted[1]!;
      const epoch = /^\s*(\d+)\/\d+\s/.exec(line);
      if (epoch) cliAt.set(Number(epoch[1]), now);
    }
    // The reference joins the job's room as soon as the id is known: before its first epoch (a trainer's start takes longer).
    if (jobId && !subscribed) {
      subscribed = true;
      socket.emit("subscribe", { jobId }, () => {});
    }
  }
  const code = await new Promise<number | null>((r) => (child.exitCode !== null ? r(child.exitCode) : child.on("exit", r)));
  socket.close();
  if (code !== 0) throw new Error(`wyolo submit --follow exited ${code}: ${stderr}`);
  return { jobId, cliAt, refAt };
}

export async function cliFollowBench(report: (fig: Record<string, unknown>) => void = (f) => console.log(JSON.stringify(f))) {
  const processes = new Processes();
  const db = new pg.Client({ connectionString: DB_URL });
  try {
    info("preparing database, build and servers");
    await prepareBenchDatabase(DB_URL);
    await ensureWebBuild();
    await db.connect();

    // A team, project and personal token of the admin.
    const { token } = await seedBenchTeam(db, { name: "CLI", slug: "cli" }, ["read", "jobs:write"]);

    const common = { DATABASE_URL: DB_URL, REDIS_URL, TRAINING_QUEUE: QUEUE };
    processes.start(["--import", "tsx", "apps/worker/src/index.ts"], {
      ...common,
      WORKER_NAME: "bench-cli",
      WORKER_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), "wyolo-bench-cli-")),
      TRAINER_COMMAND: "node apps/worker/test/fixtures/fake-trainer.mjs",
      TRAINER_CHECK: "false",
    });
    await processes.startWeb(PORT, common);

    const dir = mkdtempSync(path.join(os.tmpdir(), "wyolo-bench-cli-cfg-"));
    const configFile = path.join(dir, "config.yaml");
    writeFileSync(
      configFile,
      `model: yolo11n.pt\ntrain:\n  data: shapes/data.yaml\n  epochs: ${EPOCHS}\nmetadata:\n  fake:\n    delayMs: ${DELAY_MS}\n`,
    );
    const env = { WYOLO_URL: BASE, WYOLO_TOKEN: token, WYOLO_PROJECT: "bench/cli" };
    for (const mode of ["json", "table"] as const) {
      const cli: number[] = [];
      const ref: number[] = [];
      const first: number[] = [];
      const overhead: number[] = [];
      for (let j = 0; j < JOBS_PER_MODE; j++) {
        const { jobId, cliAt, refAt } = await followOnce(configFile, mode, env, token);
        const { rows } = await db.query<{ epoch: number; at: number }>(
          `SELECT epoch, (extract(epoch FROM "createdAt") * 1000)::float8 AS at FROM "JobEpoch" WHERE "jobId" = $1 ORDER BY epoch`,
          [jobId],
        );
        for (const r of rows) {
          const c = cliAt.get(r.epoch);
          const s = refAt.get(r.epoch);
          if (c !== undefined) cli.push(c - r.at);
          if (s !== undefined) ref.push(s - r.at);
          if (r.epoch === 1 && c !== undefined) first.push(c - r.at);
          if (c !== undefined && s !== undefined) overhead.push(c - s);
        }
        if (cliAt.size !== rows.length) throw new Error(`the CLI printed ${cliAt.size} of ${rows.length} epochs`);
      }
      report({
        name: `cli_follow_epoch_delay_${mode}`,
        jobs: JOBS_PER_MODE,
        epochs: cli.length,
        p50_ms: pct(cli, 50),
        p99_ms: pct(cli, 99),
        max_ms: Math.max(...cli),
        first_epoch_ms: first,
        reference_socket_p50_ms: pct(ref, 50),
        reference_socket_p99_ms: pct(ref, 99),
        cli_minus_reference_p50_ms: pct(overhead, 50),
        cli_minus_reference_p99_ms: pct(overhead, 99),
        note: "JobEpoch.createdAt (Postgres clock) → line read from `wyolo submit --follow` stdout; reference: a socket.io client in this process, same job. Negative: shown before the row's transaction began (the worker emits the epoch, then writes it)",
        goal: "first epoch shown ≤ 1,000 ms after the worker records it",
      });
    }
  } finally {
    await db.end().catch(() => {});
    await processes.stopAll();
    // The worker's report is not for a real Workers page.
    const redis = new Redis(REDIS_URL);
    await redis.del(workersKey(QUEUE)).catch(() => {});
    redis.disconnect();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await cliFollowBench();
  process.exit(0);
}
