import { execFile } from "node:child_process";
import type { Logger } from "../logger.ts";
import { trainerEnv } from "./trainer-env.ts";

export type TrainerCheck = { ok: boolean; problem?: string; details: Record<string, unknown> };

/**
 * Asks the trainer whether it can run here (`TRAINER_COMMAND --check`: one JSON line with
 * python, torch, CUDA and ultralytics versions). A worker that cannot train still starts;
 * its jobs fail at once with the reason instead of hanging.
 */
export function checkTrainer(
  command: string,
  log: Logger,
  timeoutMs = 60_000,
  what: "trainer" | "exporter" = "trainer",
): Promise<TrainerCheck> {
  const [program, ...args] = command.split(/\s+/);
  return new Promise((resolve) => {
    execFile(program!, [...args, "--check"], { timeout: timeoutMs, env: trainerEnv(process.env, {}) }, (err, stdout, stderr) => {
      const line = stdout
        .trim()
        .split("\n")
        .reverse()
        .find((l) => l.startsWith("{"));
      let details: Record<string, unknown> = {};
      try {
        details = line ? (JSON.parse(line) as Record<string, unknown>) : {};
      } catch {
        // fall through: no report
      }
      const ok = !err && details.ok === true;
      const problem = ok
        ? undefined
        : typeof details.problem === "string"
          ? details.problem
          : `The ${what} (${program}) did not pass its check: ${(err?.message ?? stderr.trim().split("\n").pop() ?? "no report").slice(0, 500)}`;
      const result = { ok, details, ...(problem ? { problem } : {}) };
      if (ok) log.info({ [what]: details }, `${what} check passed`);
      else if (what === "trainer") log.warn({ problem }, "this worker cannot train; its jobs will fail with the reason");
      else log.warn({ problem }, "this worker cannot export models; exports go to other workers");
      resolve(result);
    });
  });
}
