import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import type { Readable } from "node:stream";
import { parseTrainerLine, type TrainerEvent } from "@wyolo/contracts";
import type { Logger } from "../logger.ts";
import type { Lifeline } from "../lost-workers.ts";
import { LineSplitter } from "./line-splitter.ts";
import { killTree } from "./memory-watch.ts";
import { trainerEnv } from "./trainer-env.ts";

export type TrainerExit = { code: number | null; signal: NodeJS.Signals | null; spawnError?: string };

export type TrainerHandlers = {
  onEvent: (event: TrainerEvent) => void;
  onOutput: (stream: "stdout" | "stderr", line: string) => void;
};

/**
 * One trainer child process. Events arrive on file descriptor 3 (one JSON line each, validated;
 * a malformed line is logged and skipped). stdin stays open for the child's lifetime: when the
 * worker dies it closes, and the trainer exits instead of training on unsupervised. With a
 * lifeline, the worker also writes a newline to it every `beatEveryMs` while it holds the job, and
 * the trainer exits after `timeoutMs` of silence (WYOLO_LIFELINE_TIMEOUT_MS): a frozen worker's
 * trainer is gone before another worker can take the job over.
 */
export class TrainerProcess {
  private child: ChildProcess | null = null;
  private killTimer: NodeJS.Timeout | null = null;
  private beats: NodeJS.Timeout | null = null;
  readonly exited: Promise<TrainerExit>;
  private resolveExit!: (exit: TrainerExit) => void;

  constructor(
    private readonly command: string[],
    private readonly env: Record<string, string>,
    private readonly stopFile: string,
    private readonly handlers: TrainerHandlers,
    private readonly log: Logger,
    private readonly lifeline?: Lifeline,
  ) {
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
  }

  start(cwd: string) {
    const [program, ...args] = this.command;
    const lifeline = this.lifeline;
    const env = lifeline ? { ...this.env, WYOLO_LIFELINE_TIMEOUT_MS: String(lifeline.timeoutMs) } : this.env;
    let child: ChildProcess;
    try {
      child = spawn(program!, args, { cwd, env: trainerEnv(process.env, env), stdio: ["pipe", "pipe", "pipe", "pipe"] });
    } catch (err) {
      this.resolveExit({ code: null, signal: null, spawnError: (err as Error).message });
      return;
    }
    this.child = child;
    const events = new LineSplitter((line) => {
      const parsed = parseTrainerLine(line);
      if (parsed.ok) this.handlers.onEvent(parsed.event);
      else this.log.warn({ error: parsed.error, line: line.slice(0, 300) }, "skipped a malformed trainer event");
    });
    const stdout = new LineSplitter((line) => this.handlers.onOutput("stdout", line));
    const stderr = new LineSplitter((line) => this.handlers.onOutput("stderr", line));
    (child.stdio[3] as Readable).on("data", (c: Buffer) => events.push(c));
    child.stdout!.on("data", (c: Buffer) => stdout.push(c));
    child.stderr!.on("data", (c: Buffer) => stderr.push(c));
    child.stdin!.on("error", () => {});
    let spawnError: string | undefined;
    child.on("error", (err) => {
      spawnError = err.message;
    });
    if (lifeline) {
      this.beats = setInterval(() => {
        if (lifeline.healthy() && child.stdin?.writable) child.stdin.write("\n");
      }, lifeline.beatEveryMs);
      this.beats.unref();
    }
    child.on("close", (code, signal) => {
      if (this.killTimer) clearTimeout(this.killTimer);
      if (this.beats) clearInterval(this.beats);
      events.end();
      stdout.end();
      stderr.end();
      this.resolveExit({ code, signal, spawnError });
    });
  }

  /** Asks the trainer to stop at its next epoch boundary (it watches the stop file); kills it after `killAfterMs`. */
  requestStop(reason: string, killAfterMs: number) {
    try {
      writeFileSync(this.stopFile, reason);
    } catch (err) {
      this.log.warn({ err: { message: (err as Error).message } }, "could not write the stop file");
    }
    if (this.killTimer) return;
    this.killTimer = setTimeout(() => this.kill(), killAfterMs);
    this.killTimer.unref();
  }

  /** SIGKILL now: the job is no longer this worker's, and the trainer must not write one more epoch. */
  killNow() {
    const child = this.child;
    if (this.beats) clearInterval(this.beats);
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.log.warn({ pid: child.pid }, "killing the trainer at once");
    child.kill("SIGKILL");
  }

  /** The running child's process id (undefined before start or after a failed spawn). */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** SIGKILL to the trainer and every process it started (memory over the worker's limit: no time to wait). */
  killTreeNow() {
    const child = this.child;
    if (this.beats) clearInterval(this.beats);
    if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
    this.log.warn({ pid: child.pid }, "killing the trainer and its processes");
    killTree(child.pid);
  }

  /** SIGTERM, then SIGKILL if it is still there a few seconds later. */
  kill() {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    this.log.warn({ pid: child.pid }, "killing the trainer");
    child.kill("SIGTERM");
    setTimeout(() => child.exitCode === null && child.signalCode === null && child.kill("SIGKILL"), 5_000).unref();
  }
}
