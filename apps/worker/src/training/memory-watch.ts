import os from "node:os";
import { readdirSync, readFileSync } from "node:fs";
import type { Logger } from "../logger.ts";

type ProcEntry = { ppid: number; rssBytes: number };
const PAGE_BYTES = 4096;

/** Every process's parent and resident size, from /proc/<pid>/stat (empty where there is no /proc). */
export function readProcessTable(): Map<number, ProcEntry> {
  const table = new Map<number, ProcEntry>();
  let names: string[];
  try {
    names = readdirSync("/proc");
  } catch {
    return table;
  }
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, "utf8");
      // The command name (in parentheses) may hold spaces: the fields are counted after it.
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      table.set(Number(name), { ppid: Number(fields[1]), rssBytes: Number(fields[21]) * PAGE_BYTES });
    } catch {
      // Gone between the listing and the read.
    }
  }
  return table;
}

/** `root` and all its descendants that are in the table. */
export function processTree(table: Map<number, ProcEntry>, root: number): number[] {
  const children = new Map<number, number[]>();
  for (const [pid, { ppid }] of table) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  const tree: number[] = [];
  const todo = table.has(root) ? [root] : [];
  while (todo.length) {
    const pid = todo.pop()!;
    tree.push(pid);
    todo.push(...(children.get(pid) ?? []));
  }
  return tree;
}

/**
 * A process's share of memory: its PSS (forked dataloader workers share their parent's pages, so
 * adding up RSS would count those pages again and again), or its RSS where smaps_rollup is unreadable.
 */
function memoryOf(pid: number, entry: ProcEntry): number {
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, "utf8"));
    if (m) return Number(m[1]) * 1024;
  } catch {
    // Not readable (older kernel, gone): RSS instead.
  }
  return entry.rssBytes;
}

export function treeMemory(table: Map<number, ProcEntry>, root: number): number {
  return processTree(table, root).reduce((sum, pid) => sum + memoryOf(pid, table.get(pid)!), 0);
}

/** SIGKILL to `root` and every descendant: a trainer's dataloader workers go with it. */
export function killTree(root: number) {
  for (const pid of processTree(readProcessTable(), root).reverse()) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // Already gone.
    }
  }
}

export const formatBytes = (bytes: number) =>
  bytes >= 1024 ** 3 ? `${(bytes / 1024 ** 3).toFixed(1)} GiB` : `${Math.round(bytes / 1024 ** 2)} MiB`;

type Watched = { jobId: string; pid: number; onExceeded: (usedBytes: number, totalBytes: number) => void };

/**
 * Keeps this worker under WORKER_RAM_MEMORY. Each interval it measures the worker's whole process tree
 * (itself, the Optuna bridge, every trainer with its dataloader workers), as the container's memory
 * limit counts it; over the limit, the trainer tree that takes the most is reported (once) to be
 * stopped. The worker survives, and the job fails with a reason instead of the kernel killing everything.
 */
export class MemoryWatch {
  private readonly watched = new Map<string, Watched>();
  private timer: NodeJS.Timeout | null = null;
  private warnedUntracked = false;

  constructor(
    readonly limitBytes: number,
    private readonly intervalMs: number,
    private readonly log: Logger,
    private readonly root = process.pid,
  ) {}

  /** Whether this system can be measured at all (Linux /proc). */
  static available(): boolean {
    return readProcessTable().size > 0;
  }

  /** Watches one trainer; the returned function stops watching it. */
  watch(jobId: string, pid: number, onExceeded: Watched["onExceeded"]): () => void {
    this.watched.set(jobId, { jobId, pid, onExceeded });
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), this.intervalMs);
      this.timer.unref();
    }
    return () => {
      this.watched.delete(jobId);
      if (this.watched.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = null;
      }
    };
  }

  check() {
    const table = readProcessTable();
    const total = treeMemory(table, this.root);
    if (total <= this.limitBytes) return;
    let biggest: { entry: Watched; used: number } | null = null;
    for (const entry of this.watched.values()) {
      const used = treeMemory(table, entry.pid);
      if (used > 0 && (!biggest || used > biggest.used)) biggest = { entry, used };
    }
    if (!biggest) {
      if (!this.warnedUntracked)
        this.log.warn(
          { used: formatBytes(total), limit: formatBytes(this.limitBytes) },
          "the worker is over WORKER_RAM_MEMORY with no trainer",
        );
      this.warnedUntracked = true;
      return;
    }
    this.watched.delete(biggest.entry.jobId);
    this.log.warn(
      { jobId: biggest.entry.jobId, trainer: formatBytes(biggest.used), total: formatBytes(total), limit: formatBytes(this.limitBytes) },
      "over WORKER_RAM_MEMORY: stopping the biggest trainer",
    );
    biggest.entry.onExceeded(biggest.used, total);
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.watched.clear();
  }
}

/**
 * The dataloader `workers` a job may have on this worker: its share of WORKER_CPU_CORES (running jobs
 * split them), less one for the trainer's own process. Undefined when the cores are not limited.
 */
export function maxDataloaderWorkers(cores: number | undefined, concurrency: number): number | undefined {
  if (cores === undefined) return undefined;
  return Math.max(0, Math.floor(cores / Math.max(1, concurrency)) - 1);
}

/**
 * What WORKER_CPU_CORES and the concurrency mean for dataloaders: the cap on an asked-for `workers`
 * (only when the cores are limited) and the default for a config that leaves `workers` out (the
 * host's cores when they are not), each a job's share less one for the trainer itself.
 */
export function dataloaderLimits(cores: number | undefined, concurrency: number): { maxWorkers?: number; defaultWorkers: number } {
  const maxWorkers = maxDataloaderWorkers(cores, concurrency);
  return {
    ...(maxWorkers !== undefined ? { maxWorkers } : {}),
    defaultWorkers: Math.min(64, maxDataloaderWorkers(cores ?? os.availableParallelism(), concurrency)!),
  };
}
