import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ROOT } from "./db";

export const FAKE_TRAINER = "node apps/worker/test/fixtures/fake-trainer.mjs";
export const FAKE_EXPORTER = "node apps/worker/test/fixtures/fake-exporter.mjs";

export type WorkerHandle = {
  child: ChildProcess;
  output: () => string;
  ready: Promise<void>;
  exited: Promise<number | null>;
  stop: () => Promise<void>;
};

/** Starts a real worker process on this test file's database and queue, with the fake trainer and exporter. */
export function startWorker(name: string, env: Record<string, string> = {}): WorkerHandle {
  const child = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/index.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      LOG_LEVEL: "info",
      WORKER_NAME: name,
      TRAINER_COMMAND: FAKE_TRAINER,
      EXPORTER_COMMAND: FAKE_EXPORTER,
      WORKER_DATA_DIR: mkdtempSync(path.join(os.tmpdir(), `wyolo-${name}-`)),
      LOCK_DURATION_MS: "3000",
      STALLED_INTERVAL_MS: "2000",
      FLUSH_INTERVAL_MS: "200",
      HEARTBEAT_INTERVAL_MS: "1000",
      CANCEL_KILL_TIMEOUT_MS: "10000",
      SHUTDOWN_TIMEOUT_MS: "15000",
      // The sweeps' bridge: Debian's Python has Optuna (python3 on PATH may be another one).
      OPTUNA_COMMAND: `${existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3"} apps/worker/sweeper/optuna_bridge.py`,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const ready = new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('"worker ready"')) resolve();
    };
    child.stdout!.on("data", onData);
    child.stderr!.on("data", onData);
    child.on("exit", () => reject(new Error(`worker ${name} exited before it was ready:\n${out}`)));
  });
  ready.catch(() => {});
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return {
    child,
    output: () => out,
    ready,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        await exited;
      }
    },
  };
}

/** Polls until `check` returns a value (not undefined/false), or fails after `timeoutMs`. */
export async function waitFor<T>(check: () => Promise<T | undefined | false | null>, timeoutMs = 20_000, what = "condition"): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * The Python for tests with a real Ultralytics: WYOLO_TEST_PYTHON, else Debian's /usr/bin/python3
 * (PYTHONPATH as set), and whether its trainer check passes (with the reason when not).
 */
export function realTrainer() {
  const python = process.env.WYOLO_TEST_PYTHON ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : "python3");
  const check = spawnSync(python, ["apps/worker/trainer/train.py", "--check"], { cwd: ROOT, encoding: "utf8", timeout: 120_000 });
  let report: { ok?: boolean; problem?: string; ultralytics?: string };
  try {
    report = JSON.parse(check.stdout.trim().split("\n").pop() ?? "{}") as typeof report;
  } catch {
    report = { ok: false, problem: check.error?.message ?? check.stderr.trim() };
  }
  return { python, report, ready: check.status === 0 && report.ok === true };
}
