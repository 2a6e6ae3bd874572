import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const run = promisify(execFile);

/** A trainer process as the process table shows it: `jobId` comes from its WYOLO_JOB_ID. */
export type TrainerProc = { pid: number; ppid: number; state: string; jobId: string; startedAt: number };

// /proc/<pid>/stat counts a process's start in clock ticks since boot (100 a second on Linux).
const CLOCK_TICKS = 100;
const bootMs = Number(/^btime (\d+)$/m.exec(readFileSync("/proc/stat", "utf8"))![1]) * 1000;

/** When a process started (epoch ms, 10 ms resolution), or null when it is already gone. */
export function processStartMs(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 22, counted after the parenthesised command name (which may hold spaces).
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return bootMs + (Number(fields[19]) * 1000) / CLOCK_TICKS;
  } catch {
    return null;
  }
}

function jobIdOf(pid: number): string | null {
  try {
    const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    return env.find((e) => e.startsWith("WYOLO_JOB_ID="))?.slice("WYOLO_JOB_ID=".length) ?? null;
  } catch {
    return null;
  }
}

/**
 * Live trainer processes (the stand-in's command line, not its `--check`), read with
 * `ps -eo pid,ppid,stat,args`. Zombies are not live: a SIGKILLed worker's trainer is re-parented
 * and may wait as `<defunct>` until something reaps it.
 */
export async function liveTrainers(command = "fake-trainer.mjs"): Promise<TrainerProc[]> {
  const { stdout } = await run("ps", ["-eo", "pid=,ppid=,stat=,args="], { maxBuffer: 16 * 1024 * 1024 });
  const found: TrainerProc[] = [];
  for (const line of stdout.split("\n")) {
    const m = /^\s*(\d+)\s+(\d+)\s+(\S+)\s+(.*)$/.exec(line);
    if (!m || !m[4]!.includes(command) || m[4]!.includes("--check") || m[3]!.startsWith("Z")) continue;
    const pid = Number(m[1]);
    const jobId = jobIdOf(pid);
    const startedAt = processStartMs(pid);
    // Gone between ps and /proc: not live any more.
    if (jobId === null || startedAt === null) continue;
    found.push({ pid, ppid: Number(m[2]), state: m[3]!, jobId, startedAt });
  }
  return found;
}

/**
 * Samples the process table every `everyMs` and keeps, per sample, the live trainers of the
 * jobs watched. `overlaps()` lists every sample where a job had two at once.
 */
export class TrainerSampler {
  readonly samples: { at: number; trainers: TrainerProc[] }[] = [];
  private timer: NodeJS.Timeout | null = null;
  private busy = false;

  constructor(
    private readonly jobIds: () => string[],
    private readonly everyMs = 150,
  ) {}

  start() {
    this.timer = setInterval(() => void this.sample(), this.everyMs);
    return this;
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async sample() {
    // A slow `ps` on a loaded machine must not pile samples up.
    if (this.busy) return;
    this.busy = true;
    try {
      const watched = new Set(this.jobIds());
      const at = Date.now();
      const trainers = (await liveTrainers()).filter((t) => watched.has(t.jobId));
      this.samples.push({ at, trainers });
    } finally {
      this.busy = false;
    }
  }

  /** The newest sample's trainers of `jobId`. */
  current(jobId: string): TrainerProc[] {
    return this.samples.at(-1)?.trainers.filter((t) => t.jobId === jobId) ?? [];
  }

  overlaps(jobId: string) {
    return this.samples.filter((s) => s.trainers.filter((t) => t.jobId === jobId).length > 1);
  }

  /** The gaps between samples (how finely the table was watched on this machine). */
  maxGapMs(): number {
    let gap = 0;
    for (let i = 1; i < this.samples.length; i++) gap = Math.max(gap, this.samples[i]!.at - this.samples[i - 1]!.at);
    return gap;
  }
}

export const percentile = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
};
