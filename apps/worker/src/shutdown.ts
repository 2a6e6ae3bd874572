import type { Logger } from "./logger.ts";

export type ShutdownStep = { name: string; run: () => Promise<unknown> };

/**
 * A graceful stop: no new jobs, running trainings asked to hand back at their next epoch
 * boundary (their abort signal), then each step in order (close the BullMQ worker, which waits
 * for those hand-backs, then reporter, tracker, Redis, Postgres), all under one deadline. A second
 * signal while stopping is ignored; past the deadline the process exits 1.
 */
export function createShutdown(deps: {
  log: Pick<Logger, "info" | "error">;
  deadlineMs: number;
  /** Stop taking jobs (the reporter shows the worker draining). */
  stopTaking: () => void;
  /** Ask running jobs to hand back. */
  abortRunning: (reason: string) => void;
  steps: ShutdownStep[];
  exit: (code: number) => void;
  /** How many jobs are running, for the log. */
  running?: () => number;
}) {
  let started: Promise<void> | null = null;
  const run = async (signal: string) => {
    const { log } = deps;
    deps.stopTaking();
    log.info(
      { signal, running: deps.running?.() },
      "shutting down: no new jobs; running trainings stop at their next epoch and go back to the queue",
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<"deadline">((resolve) => {
      timer = setTimeout(() => resolve("deadline"), deps.deadlineMs);
      timer.unref?.();
    });
    deps.abortRunning(signal);
    const steps = (async () => {
      for (const step of deps.steps) await step.run();
      return "done" as const;
    })();
    try {
      const how = await Promise.race([steps, deadline]);
      if (how === "deadline") {
        log.error({ deadlineMs: deps.deadlineMs }, "shutdown deadline passed; exiting");
        deps.exit(1);
        return;
      }
      log.info({}, "stopped");
      deps.exit(0);
    } catch (err) {
      log.error({ err: { message: (err as Error).message } }, "error during shutdown");
      deps.exit(1);
    } finally {
      clearTimeout(timer);
    }
  };
  return (signal: string): Promise<void> => (started ??= run(signal));
}

/** SIGTERM and SIGINT start the shutdown (once). */
export function onStopSignals(shutdown: (signal: string) => Promise<void>, proc: Pick<NodeJS.Process, "on"> = process) {
  for (const signal of ["SIGTERM", "SIGINT"] as const) proc.on(signal, () => void shutdown(signal));
}
