import { readFileSync } from "node:fs";
import { Prisma, isDatabaseUnavailable, type Db } from "@wyolo/db";
import { RESOURCE_SAMPLE_MS, type ResourceSample } from "@wyolo/contracts";
import { queryGpus } from "../gpus.ts";
import type { Logger } from "../logger.ts";
import type { LivePublisher } from "../realtime.ts";
import { processTree, readProcessTable, treeMemory } from "./memory-watch.ts";

// ── /proc readings ───────────────────────────────────────────────────────────────────────────

/** The machine's CPU time so far (/proc/stat's `cpu` line, in USER_HZ ticks) and its CPU count. */
export type CpuClock = { total: number; idle: number; cpus: number };

export function parseCpuClock(procStat: string): CpuClock | null {
  const line = /^cpu\s+(.+)$/m.exec(procStat)?.[1];
  if (!line) return null;
  // user nice system idle iowait irq softirq steal (guest time is inside user already)
  const f = line.trim().split(/\s+/).slice(0, 8).map(Number);
  if (f.length < 4 || f.some((n) => !Number.isFinite(n))) return null;
  const cpus = procStat.match(/^cpu\d+\s/gm)?.length ?? 1;
  return { total: f.reduce((a, b) => a + b, 0), idle: (f[3] ?? 0) + (f[4] ?? 0), cpus };
}

/** A process's user + system CPU ticks, from its /proc/<pid>/stat (fields 14 and 15, counted after the command name). */
export function parseProcessTicks(stat: string): number | null {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return Number.isFinite(ticks) ? ticks : null;
}

function readTicks(pid: number): number | null {
  try {
    return parseProcessTicks(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return null; // gone since the listing
  }
}

function readCpuClock(): CpuClock | null {
  try {
    return parseCpuClock(readFileSync("/proc/stat", "utf8"));
  } catch {
    return null; // no /proc (not Linux)
  }
}

/** The worker's child whose environment names this job (WYOLO_JOB_ID): the trainer, root of its process tree. */
function findTrainer(table: Map<number, { ppid: number }>, jobId: string, worker: number): number | null {
  const mark = `\0WYOLO_JOB_ID=${jobId}\0`;
  for (const [pid, { ppid }] of table) {
    if (ppid !== worker) continue;
    try {
      if (`\0${readFileSync(`/proc/${pid}/environ`, "latin1")}`.includes(mark)) return pid;
    } catch {
      // Not ours to read, or gone.
    }
  }
  return null;
}

/** CPU ticks of each process of a tree; a process that appears between two readings counts from its start. */
function treeTicks(table: ReturnType<typeof readProcessTable>, root: number): Map<number, number> {
  const ticks = new Map<number, number>();
  for (const pid of processTree(table, root)) {
    const t = readTicks(pid);
    if (t !== null) ticks.set(pid, t);
  }
  return ticks;
}

/** Ticks the tree used between two readings (processes that ended meanwhile are not counted). */
export function ticksBetween(before: Map<number, number>, after: Map<number, number>): number {
  let used = 0;
  for (const [pid, t] of after) used += Math.max(0, t - (before.get(pid) ?? 0));
  return used;
}

// ── the bounded series ───────────────────────────────────────────────────────────────────────

/** Time-weighted mean of two values that may be missing. */
function weighted(a: number | null, wa: number, b: number | null, wb: number): number | null {
  if (a === null) return b;
  if (b === null) return a;
  return (a * wa + b * wb) / (wa + wb);
}

/**
 * Two adjacent samples as one: it starts where the first does, covers both spans, and holds each
 * figure's time-weighted mean (per GPU too).
 */
export function mergeSamples(a: ResourceSample, b: ResourceSample): ResourceSample {
  const wa = a.spanSeconds;
  const wb = b.spanSeconds;
  const mean = (key: "cpuPercent" | "rssBytes" | "hostCpuPercent" | "gpuUtil" | "gpuMemUsedMb") => weighted(a[key], wa, b[key], wb);
  let gpus: ResourceSample["gpus"] = a.gpus ?? b.gpus;
  if (a.gpus && b.gpus) {
    const later = new Map(b.gpus.map((g) => [g.index, g]));
    gpus = a.gpus.map((g) => {
      const h = later.get(g.index);
      if (!h) return g;
      return {
        index: g.index,
        util: weighted(g.util, wa, h.util, wb),
        memUsedMb: weighted(g.memUsedMb, wa, h.memUsedMb, wb),
        memTotalMb: g.memTotalMb ?? h.memTotalMb,
      };
    });
  }
  const rss = mean("rssBytes");
  return {
    at: a.at,
    spanSeconds: wa + wb,
    cpuPercent: mean("cpuPercent"),
    rssBytes: rss === null ? null : Math.round(rss),
    hostCpuPercent: mean("hostCpuPercent"),
    gpuUtil: mean("gpuUtil"),
    gpuMemUsedMb: mean("gpuMemUsedMb"),
    gpus,
  };
}

/**
 * A job's samples, at most `maxRows`: past it, the adjacent pair that covers the least time (the
 * oldest such pair on a tie) becomes one row, never among the newest `keepRecent`. A long run so ends
 * with rows of about equal span (10 h at 5 s: 1,000 rows of ~36 s), its last minutes at full resolution.
 * Tracks what Postgres has, so a flush writes only the rows that changed and deletes the merged-away ones.
 */
export class ResourceSeries {
  readonly rows: ResourceSample[] = [];
  /** Row starts (ISO) that Postgres holds. */
  private readonly persisted = new Set<string>();
  /** Rows to write, by start, with a version so a write that raced a change leaves it dirty. */
  private readonly dirty = new Map<string, number>();
  private version = 0;
  readonly keepRecent: number;

  constructor(
    readonly maxRows: number,
    keepRecent = 60,
  ) {
    this.keepRecent = Math.min(keepRecent, Math.floor(maxRows / 4));
  }

  /** Rows already in Postgres (an earlier attempt's), oldest first. */
  load(rows: ResourceSample[]) {
    for (const r of rows) {
      this.rows.push(r);
      this.persisted.add(r.at);
    }
    this.bound();
  }

  add(sample: ResourceSample) {
    this.rows.push(sample);
    this.dirty.set(sample.at, ++this.version);
    this.bound();
  }

  private bound() {
    while (this.rows.length > this.maxRows) {
      const last = this.rows.length - 1 - this.keepRecent;
      let best = 0;
      for (let i = 1; i < last; i++) {
        if (this.rows[i]!.spanSeconds + this.rows[i + 1]!.spanSeconds < this.rows[best]!.spanSeconds + this.rows[best + 1]!.spanSeconds)
          best = i;
      }
      const merged = mergeSamples(this.rows[best]!, this.rows[best + 1]!);
      this.dirty.delete(this.rows[best + 1]!.at);
      this.rows.splice(best, 2, merged);
      this.dirty.set(merged.at, ++this.version);
    }
  }

  /** What a flush writes: rows to (re)create, and starts to delete first (merged away, or replaced). */
  changes(): { create: ResourceSample[]; remove: string[]; versions: Map<string, number> } {
    const current = new Set(this.rows.map((r) => r.at));
    return {
      create: this.rows.filter((r) => this.dirty.has(r.at)),
      remove: [...this.persisted].filter((at) => !current.has(at) || this.dirty.has(at)),
      versions: new Map(this.dirty),
    };
  }

  /** The flush of `changes` reached Postgres. */
  written({ create, remove, versions }: ReturnType<ResourceSeries["changes"]>) {
    for (const at of remove) this.persisted.delete(at);
    for (const r of create) {
      this.persisted.add(r.at);
      if (this.dirty.get(r.at) === versions.get(r.at)) this.dirty.delete(r.at);
    }
  }

  get pending(): number {
    return this.dirty.size;
  }
}

// ── the sampler ──────────────────────────────────────────────────────────────────────────────

type GpuReading = Awaited<ReturnType<typeof queryGpus>>;
/** One nvidia-smi call serves every job of this worker that samples at about the same time. */
let sharedGpus: { at: number; reading: Promise<GpuReading> } | null = null;
function gpusNow(nvidiaSmi: string, maxAgeMs: number): Promise<GpuReading> {
  if (!sharedGpus || Date.now() - sharedGpus.at > maxAgeMs) sharedGpus = { at: Date.now(), reading: queryGpus(nvidiaSmi) };
  return sharedGpus.reading;
}

export type ResourceSamplerOptions = {
  db: Db;
  live: LivePublisher;
  log: Logger;
  jobId: string;
  /** The job's GPUs as nvidia-smi numbers them (none on CPU). */
  gpuIndexes: number[];
  nvidiaSmi: string;
  intervalMs?: number;
  maxRows?: number;
  /** Rows are written every this many samples (and at the end). */
  flushEvery?: number;
  /** WORKER_CPU_CORES: the worker's own processes against these cores are "the worker's CPUs"; else the whole host's. */
  workerCores?: number;
  /** False once another worker owns the job: nothing more is written. */
  mayWrite?: () => boolean;
};

/** Prisma's "foreign key violation" / "record not found": the job's row is gone (deleted with its project). */
const JOB_GONE_CODES = new Set(["P2003", "P2025"]);

/**
 * Samples a running job every RESOURCE_SAMPLE_MS: its trainer's process tree (CPU in % of one core,
 * memory as PSS), the worker's CPUs, and its GPUs (nvidia-smi). Each sample goes live (`job:resources`)
 * at once and to Postgres in batches, bounded by ResourceSeries. Never in training's way: /proc reads
 * and one nvidia-smi call per interval, on a timer that does not keep the process alive; Postgres away
 * keeps the series in memory (still bounded, so older samples are merged, not lost) until it is back.
 */
export class ResourceSampler {
  private readonly series: ResourceSeries;
  private readonly intervalMs: number;
  private timer: NodeJS.Timeout | null = null;
  private trainer: number | null = null;
  private last: { at: number; clock: CpuClock | null; tree: Map<number, number>; worker: Map<number, number> } | null = null;
  private sinceFlush = 0;
  private flushing: Promise<void> = Promise.resolve();
  private outage = false;
  private gone = false;
  private loaded: Promise<void>;

  constructor(private readonly opts: ResourceSamplerOptions) {
    this.intervalMs = opts.intervalMs ?? RESOURCE_SAMPLE_MS;
    this.series = new ResourceSeries(opts.maxRows ?? 1000);
    // An earlier attempt's rows (another worker's, before a resume) stay part of the bound.
    this.loaded = opts.db.jobResourceSample
      .findMany({ where: { jobId: opts.jobId }, orderBy: { at: "asc" } })
      .then((rows) => this.series.load(rows.map(fromRow)))
      .catch((err: Error) => opts.log.warn({ err: { message: err.message } }, "earlier resource samples not read; this attempt's follow"));
  }

  start() {
    this.timer = setInterval(
      () => void this.tick().catch((err: Error) => this.opts.log.debug({ err: { message: err.message } }, "resource sample failed")),
      this.intervalMs,
    );
    this.timer.unref();
    void this.tick().catch(() => {});
  }

  /** One reading; from the second on, a sample of the span since the one before. */
  async tick(): Promise<ResourceSample | null> {
    const table = readProcessTable();
    if (table.size === 0) return null; // no /proc here
    if (this.trainer === null || !table.has(this.trainer)) this.trainer = findTrainer(table, this.opts.jobId, process.pid);
    if (this.trainer === null) return null; // not started yet, or ended
    const now = Date.now();
    const reading = {
      at: now,
      clock: readCpuClock(),
      tree: treeTicks(table, this.trainer),
      worker: this.opts.workerCores ? treeTicks(table, process.pid) : new Map<number, number>(),
    };
    const gpus = this.opts.gpuIndexes.length ? gpusNow(this.opts.nvidiaSmi, this.intervalMs / 2) : null;
    const rssBytes = treeMemory(table, this.trainer);
    const before = this.last;
    this.last = reading;
    if (!before) return null;
    const sample = sampleOf(before, reading, rssBytes, gpus ? await gpus : null, this.opts.gpuIndexes, this.opts.workerCores);
    this.opts.live.jobResources(this.opts.jobId, sample);
    await this.loaded;
    this.series.add(sample);
    if (++this.sinceFlush >= (this.opts.flushEvery ?? 3)) void this.flush();
    return sample;
  }

  /** Writes what changed since the last write; one at a time. */
  flush(): Promise<void> {
    this.flushing = this.flushing.then(() => this.write());
    return this.flushing;
  }

  private async write() {
    if (this.gone || this.opts.mayWrite?.() === false) return;
    this.sinceFlush = 0;
    const { db, jobId, log } = this.opts;
    try {
      await writeSeries(db, jobId, this.series);
      if (this.outage) log.info("Postgres is back: the resource samples kept meanwhile are written");
      this.outage = false;
    } catch (err) {
      if (err instanceof Prisma.PrismaClientKnownRequestError && JOB_GONE_CODES.has(err.code)) {
        this.gone = true;
        return;
      }
      if (!this.outage)
        log.warn(
          { err: { message: (err as Error).message }, unavailable: isDatabaseUnavailable(err) },
          `resource samples not written; kept in memory (at most ${this.series.maxRows} rows, older ones merged) until Postgres takes them`,
        );
      this.outage = true;
    }
  }

  /** Stops sampling and writes what is left (as far as `signal` allows: a shutdown does not wait for Postgres). */
  async stop(signal?: AbortSignal): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    const done = this.loaded.then(() => this.flush());
    if (!signal) return done;
    await Promise.race([
      done,
      new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true }))),
    ]);
    if (this.series.pending) this.opts.log.warn({ pending: this.series.pending }, "resource samples left unwritten at the end of the run");
  }
}

/**
 * What changed in a series since its last write, to Postgres in one transaction: the merged-away
 * rows deleted, and each row written deleted first too, so a write that committed but lost its
 * reply, sent again, replaces its rows instead of hitting their key (jobId, at) forever.
 */
export async function writeSeries(db: Db, jobId: string, series: ResourceSeries): Promise<void> {
  const changes = series.changes();
  if (!changes.create.length && !changes.remove.length) return;
  const replaced = new Set([...changes.remove, ...changes.create.map((s) => s.at)]);
  await db.$transaction([
    db.jobResourceSample.deleteMany({ where: { jobId, at: { in: [...replaced].map((at) => new Date(at)) } } }),
    db.jobResourceSample.createMany({ data: changes.create.map((s) => toRow(jobId, s)) }),
  ]);
  series.written(changes);
}

/** The sample of the span between two readings. */
export function sampleOf(
  before: { at: number; clock: CpuClock | null; tree: Map<number, number>; worker: Map<number, number> },
  after: { at: number; clock: CpuClock | null; tree: Map<number, number>; worker: Map<number, number> },
  rssBytes: number,
  gpus: GpuReading | null,
  gpuIndexes: number[],
  workerCores?: number,
): ResourceSample {
  const clocks =
    before.clock && after.clock ? { total: after.clock.total - before.clock.total, idle: after.clock.idle - before.clock.idle } : null;
  // Ticks of one CPU over the span: the machine's ticks shared by its CPUs (no USER_HZ assumption).
  const perCpu = clocks && clocks.total > 0 ? clocks.total / after.clock!.cpus : null;
  const percentOfCore = (ticks: number) => (perCpu ? (100 * ticks) / perCpu : null);
  const workerPercent = workerCores ? percentOfCore(ticksBetween(before.worker, after.worker)) : null;
  const hostCpuPercent = workerCores
    ? workerPercent === null
      ? null
      : Math.min(100, workerPercent / workerCores)
    : clocks && clocks.total > 0
      ? (100 * (clocks.total - clocks.idle)) / clocks.total
      : null;
  const mine = gpus ? gpuIndexes.map((index) => gpus.find((g) => g.index === index)) : [];
  const present = mine.filter((g): g is GpuReading[number] => !!g);
  const mean = (values: number[]) => (values.length ? values.reduce((a, b) => a + b, 0) / values.length : null);
  return {
    at: new Date(before.at).toISOString(),
    spanSeconds: Math.max(1, Math.round((after.at - before.at) / 1000)),
    cpuPercent: percentOfCore(ticksBetween(before.tree, after.tree)),
    rssBytes: rssBytes > 0 ? rssBytes : null,
    hostCpuPercent,
    gpuUtil: mean(present.map((g) => g.utilizationPercent)),
    gpuMemUsedMb: mean(present.map((g) => g.memoryUsedMb)),
    gpus: gpuIndexes.length
      ? gpuIndexes.map((index, i) => {
          const g = mine[i];
          return { index, util: g?.utilizationPercent ?? null, memUsedMb: g?.memoryUsedMb ?? null, memTotalMb: g?.memoryTotalMb ?? null };
        })
      : null,
  };
}

function fromRow({ jobId: _, ...r }: Prisma.JobResourceSampleGetPayload<object>): ResourceSample {
  return {
    ...r,
    at: r.at.toISOString(),
    rssBytes: r.rssBytes === null ? null : Number(r.rssBytes),
    gpus: (r.gpus ?? null) as ResourceSample["gpus"],
  };
}

function toRow(jobId: string, s: ResourceSample): Prisma.JobResourceSampleCreateManyInput {
  return {
    jobId,
    at: new Date(s.at),
    spanSeconds: s.spanSeconds,
    cpuPercent: s.cpuPercent,
    rssBytes: s.rssBytes === null ? null : BigInt(Math.round(s.rssBytes)),
    hostCpuPercent: s.hostCpuPercent,
    gpuUtil: s.gpuUtil,
    gpuMemUsedMb: s.gpuMemUsedMb,
    gpus: s.gpus ?? Prisma.DbNull,
  };
}
