// `npm run bench:sweep`: sweep figures, printed as JSON.
// (b) strategies on the stand-in objective (bench/sweep_strategies.py, in-memory Optuna): epochs each
//     strategy spends to come within 1 % of full-budget random search's best; goal TPE + pruning <= 1/3.
// (c) ask + report + tell through the real bridge (apps/worker/sweeper/optuna_bridge.py) on Postgres
//     storage with 1,000 trials in the study, p50/p99 per trial; goal p99 <= 50 ms; with same-run
//     references (a bare SELECT 1 through psycopg2, a TPE ask+tell on in-memory Optuna).
// Shorter runs: BENCH_SWEEP_SEEDS (5), BENCH_SWEEP_TRIALS (60), BENCH_SWEEP_EPOCHS (27),
// BENCH_SWEEP_FILL (1000 trials in the study before measuring), BENCH_SWEEP_MEASURE (200 trials).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
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
await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
await admin.query(`CREATE DATABASE "${DATABASE}"`);
const storageUrl = optunaStorageUrl(DB_URL);
const bridge = new OptunaBridge({
  command: process.env.OPTUNA_COMMAND ?? `${python} apps/worker/sweeper/optuna_bridge.py`,
  storageUrl,
  cwd: ROOT,
  timeoutMs: 60_000,
});
let overhead: Record<string, unknown>;
try {
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
  const fillStarted = performance.now();
  for (let done = 0; done < FILL; ) {
    const asked = await bridge.ask(study, Math.min(50, FILL - done));
    for (const t of asked) {
      await bridge.report(study, t.number, 1, standinCurve(t.params, 1));
      await bridge.tell(study, t.number, "COMPLETE", standinCurve(t.params, 27));
    }
    done += asked.length;
  }
  const fillSeconds = (performance.now() - fillStarted) / 1000;
  const perTrial: number[] = [];
  const ops: Record<"ask" | "report" | "tell", number[]> = { ask: [], report: [], tell: [] };
  for (let i = 0; i < MEASURE; i++) {
    const t0 = performance.now();
    const [t] = await bridge.ask(study, 1);
    const t1 = performance.now();
    await bridge.report(study, t!.number, 1, standinCurve(t!.params, 1));
    const t2 = performance.now();
    await bridge.tell(study, t!.number, "COMPLETE", standinCurve(t!.params, 27));
    const t3 = performance.now();
    perTrial.push(t3 - t0);
    ops.ask.push(t1 - t0);
    ops.report.push(t2 - t1);
    ops.tell.push(t3 - t2);
  }
  const p99 = pct(perTrial, 99);
  overhead = {
    optuna: hello.optuna,
    storage: "RDBStorage on the local Postgres (schema optuna), TPESampler + successive_halving, 4 params",
    trials_in_study_before: FILL,
    measured_trials: MEASURE,
    per_trial_ms: { p50: pct(perTrial, 50), p99 },
    per_op_ms_p50: { ask: pct(ops.ask, 50), report: pct(ops.report, 50), tell: pct(ops.tell, 50) },
    per_op_ms_p99: { ask: pct(ops.ask, 99), report: pct(ops.report, 99), tell: pct(ops.tell, 99) },
    fill_seconds: Math.round(fillSeconds * 10) / 10,
    reference: python_(["bench/sweep_strategies.py", "reference", String(FILL)], { WYOLO_OPTUNA_STORAGE: storageUrl }),
    goal: "p99 <= 50 ms per trial (ask + report + tell)",
    goal_met: p99 <= 50,
  };
} finally {
  await bridge.close();
  await admin.query(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin.end();
}

console.log(
  JSON.stringify(
    { name: "sweep", strategies, bridge_overhead: overhead, wall_seconds: Math.round((performance.now() - started) / 100) / 10 },
    null,
    2,
  ),
);
