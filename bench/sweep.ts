// `npm run bench:sweep`: sweep figures, printed as JSON.
// (b) strategies on the stand-in objective (bench/sweep_strategies.py, in-memory Optuna): epochs each
//     strategy spends to come within 1 % of full-budget random search's best; goal TPE + pruning <= 1/3.
// (c) ask + report + tell through the real bridge (apps/worker/sweeper/optuna_bridge.py) on Postgres
//     storage with 1,000 trials in the study, p50/p99 per trial; goal p99 <= 50 ms; with same-run
//     references (a bare SELECT 1 through psycopg2, the same TPE on in-memory Optuna over the same trials).
// Shorter runs: BENCH_SWEEP_SEEDS (5), BENCH_SWEEP_TRIALS (60), BENCH_SWEEP_EPOCHS (27),
// BENCH_SWEEP_FILL (1000 trials in the study before measuring), BENCH_SWEEP_MEASURE (200 trials).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { OptunaBridge, optunaStorageUrl, type StudySpec } from "../apps/worker/src/sweeps/optuna-bridge.ts";
import { standinCurve } from "../apps/worker/test/fixtures/standin-objective.mjs";

const ROOT = path.resolve(import.meta.dirname, "..");
const python = process.env.WYOLO_TEST_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
const PG_ADMIN = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const DATABASE = `wyolo_bench_sweep_${process.pid}`;
const DB_URL = `${PG_ADMIN.replace(/\/[^/?]*(\?.*)?$/, "")}/${DATABASE}`;
const FILL = Number(process.env.BENCH_SWEEP_FILL ?? 1000);
const MEASURE = Number(process.env.BENCH_SWEEP_MEASURE ?? 200);

const pct = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.min(s.length - 1, Math.round((q / 100) * (s.length - 1)))]! * 100) / 100;
};

function python_(args: string[], env: Record<string, string> = {}) {
  const res = spawnSync(python, args, { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
  if (res.status !== 0) throw new Error(`${args.join(" ")} failed: ${res.stderr}`);
  return JSON.parse(res.stdout.trim().split("\n").pop()!);
}

const started = performance.now();
const strategies = python_(["bench/sweep_strategies.py"]);

const admin = new pg.Client({ connectionString: PG_ADMIN });
await admin.connect();
const storageUrl = optunaStorageUrl(DB_URL);
let bridge: OptunaBridge | undefined;
// The throwaway database goes away however the run ends: an error, Ctrl-C, a kill.
let cleaning: Promise<void> | undefined;
const cleanup = () =>
  (cleaning ??= (async () => {
    await bridge?.close().catch(() => {});
    await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`).catch((e) => console.error(`could not drop ${DATABASE}: ${e}`));
    await admin.end().catch(() => {});
  })());
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
  ["SIGHUP", 129],
] as const) {
  process.on(signal, () => void cleanup().finally(() => process.exit(code)));
}

let overhead: Record<string, unknown>;
try {
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.query(`CREATE DATABASE "${DATABASE}"`);
  bridge = new OptunaBridge({
    command: process.env.OPTUNA_COMMAND ?? `${python} apps/worker/sweeper/optuna_bridge.py`,
    storageUrl,
    cwd: ROOT,
    timeoutMs: 60_000,
  });
  const study: StudySpec = {
    name: "wyolo-bench",
    direction: "maximize",
    sampler: "TPESampler",
    seed: 0,
    pruner: "successive_halving",
    grace_period: 1,
    max_epochs: 27,
    space: {
      lr0: { type: "float", low: 1e-5, high: 0.1, log: true },
      momentum: { type: "float", low: 0.6, high: 0.98, log: false },
      weight_decay: { type: "float", low: 0, high: 0.001, log: false },
      mosaic: { type: "float", low: 0, high: 1, log: false },
    },
  };
  const hello = await bridge.hello();
  await bridge.ensureStudy(study);
  // The 1,000 trials go straight into Optuna's tables (one transaction); the bridge's own
  // speed is what the measured trials show.
  const fillStarted = performance.now();
  python_(["bench/sweep_strategies.py", "fill", study.name, String(FILL)], { WYOLO_OPTUNA_STORAGE: storageUrl });
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const trial = async () => {
    const t0 = performance.now();
    const [t] = await bridge!.ask(study, 1);
    const t1 = performance.now();
    await bridge!.report(study, t!.number, 1, standinCurve(t!.params, 1));
    const t2 = performance.now();
    await bridge!.tell(study, t!.number, "COMPLETE", standinCurve(t!.params, 27));
    return { ask: t1 - t0, report: t2 - t1, tell: performance.now() - t2 };
  };
  // A worker's bridge reads the study's trials once, at its first op; the figure is per trial after that.
  const first = await trial();
  const perTrial: number[] = [];
  const ops: Record<"ask" | "report" | "tell", number[]> = { ask: [], report: [], tell: [] };
  for (let i = 0; i < MEASURE; i++) {
    const t = await trial();
    perTrial.push(t.ask + t.report + t.tell);
    for (const op of ["ask", "report", "tell"] as const) ops[op].push(t[op]);
  }
  const p99 = pct(perTrial, 99);
  overhead = {
    optuna: hello.optuna,
    storage: "RDBStorage on the local Postgres (schema optuna), TPESampler (multivariate, constant liar) + successive_halving, 4 params",
    trials_in_study_before: FILL,
    fill: "random points of the space, COMPLETE, written into Optuna's tables in one transaction",
    measured_trials: MEASURE,
    per_trial_ms: { p50: pct(perTrial, 50), p99 },
    per_op_ms_p50: { ask: pct(ops.ask, 50), report: pct(ops.report, 50), tell: pct(ops.tell, 50) },
    per_op_ms_p99: { ask: pct(ops.ask, 99), report: pct(ops.report, 99), tell: pct(ops.tell, 99) },
    first_trial_ms: Math.round(first.ask + first.report + first.tell),
    fill_seconds: Math.round(fillSeconds * 10) / 10,
    load_average: os.loadavg().map((l) => Math.round(l * 10) / 10),
    reference: python_(["bench/sweep_strategies.py", "reference", study.name], { WYOLO_OPTUNA_STORAGE: storageUrl }),
    goal: "p99 <= 50 ms per trial (ask + report + tell)",
    goal_met: p99 <= 50,
  };
} finally {
  await cleanup();
}

console.log(
  JSON.stringify(
    { name: "sweep", strategies, bridge_overhead: overhead, wall_seconds: Math.round((performance.now() - started) / 100) / 10 },
    null,
    2,
  ),
);
