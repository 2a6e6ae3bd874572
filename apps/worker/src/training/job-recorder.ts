import { readFile } from "node:fs/promises";
import { Prisma, type Db } from "@wyolo/db";
import {
  bestEpochOf,
  headlineMetric,
  LOG_LEVEL_RANK,
  taskFitness,
  type BestEpoch,
  type EpochEvent,
  type JobEpochRow,
  type JobLogLine,
  type JobSummary,
  type LogLevel,
} from "@wyolo/contracts";
import type { Logger } from "../logger.ts";
import type { LivePublisher } from "../realtime.ts";
import { parseResultsCsv } from "./results-csv.ts";
import { SpillFile, type SpillRecord } from "./spill-file.ts";

type JobPatch = Partial<
  Pick<
    JobSummary,
    | "status"
    | "currentEpoch"
    | "totalEpochs"
    | "progress"
    | "etaSeconds"
    | "bestMetric"
    | "bestMetricName"
    | "workerName"
    | "attempt"
    | "failureReason"
  >
> & { bestEpoch?: number };

/** `fill`: rebuilt from results.csv; it fills what is missing and never overwrites the trainer's numbers. */
type PendingEpoch = { row: JobEpochRow; fill: boolean };

export const RECORDING_DELAYED = "recording_delayed";
export const RECORDING_CAUGHT_UP = "recording_caught_up";

export type JobRecorderOptions = {
  flushMs: number;
  heartbeatMs: number;
  maxLogLines: number;
  log: Logger;
  onCancelRequested: () => void;
  onEpoch?: (row: JobEpochRow) => void;
  /** False once this worker lost its hold on the job (another may own it): flushes write nothing then. */
  mayWrite?: () => boolean;
  /** The job's run directory: what Postgres cannot take yet is spilled there and survives a worker restart. */
  spillDir: string;
  /** Output kept in memory while Postgres is away; past either bound the oldest lines go to the spill file only. */
  maxPendingLogLines?: number;
  maxPendingLogBytes?: number;
  /** Longest wait between two tries in close(). */
  maxRetryDelayMs?: number;
  /** The job's `logging.level`: the log keeps only output at or above it (see keepsLine). Unset: every line. */
  logLevel?: LogLevel;
};

const TRAINER_LEVEL = /^\[(debug|info|warning|error)\] /;
const LOOKS_LIKE_ERROR = /\b(error|exception|traceback|fatal|critical|failed)\b|\w+Error\b/i;
// No leading \b: Python's warning classes (UserWarning, DeprecationWarning) end in it.
const LOOKS_LIKE_WARNING = /warn(ing)?s?\b|⚠/i;

/**
 * Whether a job whose `logging.level` is `level` keeps a line of its output. The trainer's own
 * events carry their level (`[warning] …`). Plain output has none: at DEBUG and INFO every line is
 * kept; at WARNING stderr is kept (Python's warnings and tracebacks go there) and stdout only where
 * a line looks like a warning or an error; at ERROR only lines that look like errors (on stderr,
 * anything that does not look like a mere warning, so an untagged traceback line is kept).
 */
export function keepsLine(level: LogLevel | undefined, stream: JobLogLine["stream"], line: string): boolean {
  if (!level) return true;
  const threshold = LOG_LEVEL_RANK[level];
  if (stream === "trainer") {
    const tagged = TRAINER_LEVEL.exec(line)?.[1];
    return tagged ? LOG_LEVEL_RANK[tagged.toUpperCase() as LogLevel] >= threshold : true;
  }
  if (threshold <= LOG_LEVEL_RANK.INFO) return true;
  const error = LOOKS_LIKE_ERROR.test(line);
  if (threshold === LOG_LEVEL_RANK.WARNING) return stream === "stderr" || error || LOOKS_LIKE_WARNING.test(line);
  return error || (stream === "stderr" && !LOOKS_LIKE_WARNING.test(line));
}

// Ultralytics prints these on every first start (each job has its own YOLO_CONFIG_DIR): never the cause of a failure.
const SETTINGS_NOISE =
  /Creating new Ultralytics Settings|View Ultralytics Settings with|Update Settings with 'yolo settings|quickstart\/#ultralytics-settings|Ultralytics settings reset to default/i;

/** A line a failure excerpt leaves out: Ultralytics' settings notices, and lines with nothing on them. */
export function isExcerptNoise(line: string): boolean {
  return SETTINGS_NOISE.test(line) || !line.replace(/^! /, "").trim();
}

/** Prisma's "record to update not found" and "foreign key violation": the job row is gone (deleted), so there is nowhere to write. */
const JOB_GONE_CODES = new Set(["P2025", "P2003"]);

function withoutNulls(map: Record<string, number | null>): Record<string, number | null> {
  return Object.fromEntries(Object.entries(map).filter(([, v]) => v != null));
}

/** `over`'s numbers win where it has them; `base` keeps the rest (a re-sent epoch never nulls a stored time or metric). */
function mergeEpoch(base: JobEpochRow, over: JobEpochRow): JobEpochRow {
  return {
    epoch: over.epoch,
    losses: { ...base.losses, ...withoutNulls(over.losses) },
    metrics: { ...base.metrics, ...withoutNulls(over.metrics) },
    lr: { ...base.lr, ...withoutNulls(over.lr) },
    epochTime: over.epochTime ?? base.epochTime,
  };
}

function abortError(signal: AbortSignal): DOMException {
  const err = new DOMException("Recording stopped before everything was written; the spill file keeps the rest", "AbortError");
  (err as { cause?: unknown }).cause = signal.reason;
  return err;
}

/**
 * Collects a running job's progress, metrics and output and writes them to Postgres in batches
 * (one flush per interval, not a write per line). Live subscribers get every change at once
 * through the emitter. Nothing is dropped: while Postgres is away the data stays in memory
 * (output bounded) and is appended to a spill file in the run directory, which a later recorder
 * for the same job replays; close() waits until all of it is written. The hot path (update,
 * epoch, output) never awaits and never throws for a database error.
 */
export class JobRecorder {
  private pendingEpochs = new Map<number, PendingEpoch>();
  private pendingLogs: JobLogLine[] = [];
  private pendingLogBytes = 0;
  /** What the flush under way took from the pending lists: an aborted close() must spill it too. */
  private inFlight: { epochs: Map<number, PendingEpoch>; logs: JobLogLine[]; patch: JobPatch } | null = null;
  private liveLogs: JobLogLine[] = [];
  private patch: JobPatch = {};
  /** `fitness`: what ranks it (null for a best read from the row, which any new epoch replaces). */
  private best: (BestEpoch & { fitness: number | null }) | null;
  private lastWrite = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private writtenSinceTrim = 0;
  private closing = false;
  private recent: string[] = [];

  private readonly spill: SpillFile;
  /** Entries already in the spill file, so a failed flush appends only what is new. */
  private readonly spilledLogs = new WeakSet<JobLogLine>();
  private readonly unspilledEpochs = new Set<number>();
  private patchUnspilled = false;
  /** The spill file holds data Postgres may not have (it is replayed before anything newer is written). */
  private spillPending: boolean;
  /** When the current outage began; the timeline entries are written once Postgres is back. */
  private outageSince: Date | null = null;
  private outageSpilled = false;
  private readonly seenEpochs = new Set<number>();
  private latestEpoch = 0;
  private filledFromCsv = false;
  private jobGone = false;

  constructor(
    private readonly db: Db,
    private readonly live: LivePublisher,
    private readonly job: {
      id: string;
      projectId: string;
      bestMetric: number | null;
      bestMetricName: string | null;
      bestEpoch: number | null;
    },
    private seq: number,
    private readonly opts: JobRecorderOptions,
  ) {
    this.best =
      job.bestMetric != null && job.bestMetricName && job.bestEpoch != null
        ? { name: job.bestMetricName, value: job.bestMetric, epoch: job.bestEpoch, fitness: null }
        : null;
    this.spill = new SpillFile(opts.spillDir);
    // A previous attempt's spill: new lines must number after its lines, and its outage is still unreported.
    const { records } = this.spill.read();
    this.spillPending = records.length > 0;
    for (const r of records) {
      if (r.t === "log" && r.line.seq > this.seq) this.seq = r.line.seq;
      if (r.t === "delayed" && !this.outageSince) this.outageSince = new Date(r.at);
    }
    this.outageSpilled = this.outageSince != null;
  }

  start() {
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs);
    if (this.spillPending) void this.flush();
  }

  update(fields: JobPatch) {
    Object.assign(this.patch, fields);
    this.patchUnspilled = true;
    this.live.jobUpdated({ id: this.job.id, projectId: this.job.projectId, ...fields });
  }

  epoch(ev: EpochEvent) {
    // Ultralytics' fitness is kept with the metrics (a sweep's default objective, and what ranks epochs for best.pt).
    const metrics = ev.fitness == null ? ev.metrics : { ...ev.metrics, fitness: ev.fitness };
    const row: JobEpochRow = { epoch: ev.epoch, losses: ev.losses, metrics, lr: ev.lr, epochTime: ev.epochTime ?? null };
    this.queueEpoch(row, false);
    this.seenEpochs.add(ev.epoch);
    this.opts.onEpoch?.(row);
    this.considerBest(ev.epoch, ev.metrics, ev.fitness);
    this.live.epoch(this.job.id, row);
    // An epoch sent again (after a resume) does not move the progress back.
    this.latestEpoch = Math.max(this.latestEpoch, ev.epoch);
    this.update({
      currentEpoch: this.latestEpoch,
      totalEpochs: ev.totalEpochs,
      progress: Math.min(1, this.latestEpoch / ev.totalEpochs),
      etaSeconds: ev.eta == null ? null : Math.round(ev.eta),
      ...(this.best ? { bestMetric: this.best.value, bestMetricName: this.best.name, bestEpoch: this.best.epoch } : {}),
    });
    // Epochs are rare and precious: write now rather than at the next tick, so a worker that
    // dies right after an epoch has still recorded it.
    void this.flush();
  }

  /**
   * Keeps the epoch of best.pt while the job runs, as Ultralytics picks it: the highest fitness, the
   * later epoch on a tie. An epoch sent again (after a resume) without the trainer's fitness is ranked
   * by the fitness its metrics give; close() settles it over every stored epoch with one source.
   */
  private considerBest(epoch: number, metrics: Record<string, number | null>, own: number | null | undefined) {
    const headline = headlineMetric(metrics);
    if (!headline) return;
    const fitness = typeof own === "number" && Number.isFinite(own) ? own : (taskFitness(metrics) ?? headline.value);
    const b = this.best;
    const wins =
      !b ||
      b.fitness === null ||
      b.name !== headline.name ||
      fitness > b.fitness ||
      (fitness === b.fitness && epoch >= b.epoch) ||
      // The best epoch sent again with other numbers: they are its numbers now.
      epoch === b.epoch;
    if (wins) this.best = { ...headline, epoch, fitness };
  }

  output(stream: JobLogLine["stream"], raw: string) {
    // Postgres text cannot hold NUL: a line with one would fail every write and hold up close() forever.
    const line = raw.includes("\0") ? raw.replaceAll("\0", "\uFFFD") : raw;
    // The failure message's tail sees every line, even those the job's log level leaves out.
    this.recent.push(`${stream === "stderr" ? "! " : ""}${line}`);
    if (this.recent.length > 400) this.recent.splice(0, this.recent.length - 200);
    if (!keepsLine(this.opts.logLevel, stream, line)) return;
    const entry: JobLogLine = { seq: ++this.seq, stream, line, at: new Date().toISOString() };
    this.pendingLogs.push(entry);
    this.pendingLogBytes += line.length;
    this.liveLogs.push(entry);
    if (
      this.pendingLogs.length > (this.opts.maxPendingLogLines ?? 5_000) ||
      this.pendingLogBytes > (this.opts.maxPendingLogBytes ?? 4_000_000)
    )
      this.evictLogs();
  }

  /** What waits in memory for Postgres (output past the bounds is in the spill file instead). */
  buffered(): { epochs: number; logLines: number; logBytes: number } {
    return { epochs: this.pendingEpochs.size, logLines: this.pendingLogs.length, logBytes: this.pendingLogBytes };
  }

  /** The last lines of output, for a failure message: Ultralytics' settings notices and blank lines left out. */
  tail(n = 30): string {
    return this.recent
      .filter((line) => !isExcerptNoise(line))
      .slice(-n)
      .join("\n");
  }

  /**
   * Fills epochs the job has no numbers for (a gap left by an outage or a lost worker) from the run's
   * own results.csv; the trainer's numbers are never overwritten. close() writes them and recomputes
   * the job's best metric from every stored epoch. A missing file fills nothing.
   */
  async fillFromResultsCsv(csvPath: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(csvPath, "utf8");
    } catch (err) {
      this.opts.log.info({ csvPath, err: { message: (err as Error).message } }, "no results.csv to fill epochs from");
      return;
    }
    const rows = parseResultsCsv(text);
    for (const row of rows) {
      this.queueEpoch(row, true);
      if (!this.seenEpochs.has(row.epoch)) this.live.epoch(this.job.id, row);
    }
    this.filledFromCsv = rows.length > 0;
  }

  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => (this.flushing = null));
    return this.flushing;
  }

  /**
   * Resolves when everything this recorder (and an earlier one's spill file) holds is in Postgres,
   * trying again with backoff for as long as that takes. On abort it rejects with an AbortError;
   * what is not written yet stays in the spill file for the next attempt.
   */
  async close(signal?: AbortSignal): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.closing = true;
    let delay = 250;
    // A flush hung on an unreachable database must not hold up a shutdown.
    const aborted = signal ? new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true })) : null;
    for (;;) {
      if (signal?.aborted) throw this.abandon(signal);
      await (aborted ? Promise.race([this.flushing ?? this.flush(), aborted]) : (this.flushing ?? this.flush()));
      if (signal?.aborted) throw this.abandon(signal);
      if (!this.flushing && this.settled()) break;
      if (signal?.aborted) throw this.abandon(signal);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, delay);
        function done() {
          clearTimeout(timer);
          signal?.removeEventListener("abort", done);
          resolve();
        }
        signal?.addEventListener("abort", done, { once: true });
      });
      delay = Math.min(delay * 2, this.opts.maxRetryDelayMs ?? 5_000);
    }
    if (this.jobGone) return;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.recomputeBest();
        return;
      } catch (err) {
        if (signal?.aborted) throw abortError(signal);
        this.opts.log.warn({ err: { message: (err as Error).message }, attempt }, "best metric not recomputed; will retry");
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** attempt, this.opts.maxRetryDelayMs ?? 5_000)));
      }
    }
  }

  private settled(): boolean {
    return this.jobGone || (!this.hasPending() && !this.spillPending && !this.outageSince);
  }

  private abandon(signal: AbortSignal): DOMException {
    try {
      this.spillUnspilled();
    } catch (err) {
      this.opts.log.error({ err: { message: (err as Error).message } }, "could not spill the job's unwritten progress");
    }
    return abortError(signal);
  }

  private hasPending(): boolean {
    return this.pendingEpochs.size > 0 || this.pendingLogs.length > 0 || this.liveLogs.length > 0 || Object.keys(this.patch).length > 0;
  }

  private queueEpoch(row: JobEpochRow, fill: boolean) {
    const prior = this.pendingEpochs.get(row.epoch);
    let next: PendingEpoch;
    if (!prior) next = { row, fill };
    else if (fill && !prior.fill) next = { row: mergeEpoch(row, prior.row), fill: false };
    else next = { row: mergeEpoch(prior.row, row), fill: prior.fill && fill };
    this.pendingEpochs.set(row.epoch, next);
    this.unspilledEpochs.add(row.epoch);
  }

  /** Memory bound: the oldest output goes to the spill file only (epochs are never evicted). */
  private evictLogs() {
    // Down to half of each bound, so eviction runs once per many lines rather than per line.
    const maxLines = Math.floor((this.opts.maxPendingLogLines ?? 5_000) / 2);
    const maxBytes = Math.floor((this.opts.maxPendingLogBytes ?? 4_000_000) / 2);
    let count = 0;
    let bytes = this.pendingLogBytes;
    while (count < this.pendingLogs.length && (this.pendingLogs.length - count > maxLines || bytes > maxBytes))
      bytes -= this.pendingLogs[count++]!.line.length;
    const evicted = this.pendingLogs.slice(0, count);
    if (!evicted.length) return;
    try {
      this.spill.append(evicted.filter((l) => !this.spilledLogs.has(l)).map((line) => ({ t: "log", line })));
    } catch (err) {
      // The disk refused too: keep them in memory rather than lose them.
      this.opts.log.error({ err: { message: (err as Error).message } }, "could not spill output; keeping it in memory");
      return;
    }
    this.pendingLogs = this.pendingLogs.slice(count);
    this.pendingLogBytes = bytes;
    this.spillPending = true;
  }

  /** Appends (fsync'd) what the spill file lacks: the outage start, changed epochs, new output, the latest field updates. */
  private spillUnspilled() {
    const records: SpillRecord[] = [];
    if (this.outageSince && !this.outageSpilled) records.push({ t: "delayed", at: this.outageSince.toISOString() });
    const sources = [...(this.inFlight ? [this.inFlight] : []), { epochs: this.pendingEpochs, logs: this.pendingLogs, patch: this.patch }];
    for (const n of this.unspilledEpochs) {
      for (const source of sources) {
        const p = source.epochs.get(n);
        if (p) records.push({ t: "epoch", row: p.row, ...(p.fill ? { fill: true } : {}) });
      }
    }
    const logs = sources.flatMap((source) => source.logs.filter((l) => !this.spilledLogs.has(l)));
    for (const line of logs) records.push({ t: "log", line });
    const patch = Object.assign({}, ...sources.map((source) => source.patch)) as JobPatch;
    if (this.patchUnspilled && Object.keys(patch).length) records.push({ t: "patch", fields: patch });
    if (!records.length) return;
    this.spill.append(records);
    this.unspilledEpochs.clear();
    for (const l of logs) this.spilledLogs.add(l);
    this.patchUnspilled = false;
    this.spillPending = true;
    if (this.outageSince) this.outageSpilled = true;
  }

  private epochWrites(entries: PendingEpoch[]): Prisma.PrismaPromise<unknown>[] {
    const ops: Prisma.PrismaPromise<unknown>[] = [];
    for (const fill of [false, true]) {
      const rows = entries.filter((e) => e.fill === fill).map((e) => e.row);
      if (!rows.length) continue;
      const values = Prisma.join(
        rows.map(
          (r) =>
            Prisma.sql`(${this.job.id}, ${r.epoch}::int, ${JSON.stringify(r.losses)}::jsonb, ${JSON.stringify(r.metrics)}::jsonb, ${JSON.stringify(r.lr)}::jsonb, ${r.epochTime}::double precision)`,
        ),
      );
      // A re-sent epoch merges into the stored one (its numbers win, its nulls do not erase);
      // an epoch rebuilt from results.csv only fills what is missing.
      ops.push(
        fill
          ? this.db.$executeRaw`INSERT INTO "JobEpoch" ("jobId", "epoch", "losses", "metrics", "lr", "epochTime") VALUES ${values}
              ON CONFLICT ("jobId", "epoch") DO UPDATE SET
                "losses" = EXCLUDED."losses" || jsonb_strip_nulls("JobEpoch"."losses"),
                "metrics" = EXCLUDED."metrics" || jsonb_strip_nulls("JobEpoch"."metrics"),
                "lr" = EXCLUDED."lr" || jsonb_strip_nulls("JobEpoch"."lr"),
                "epochTime" = COALESCE("JobEpoch"."epochTime", EXCLUDED."epochTime")`
          : this.db.$executeRaw`INSERT INTO "JobEpoch" ("jobId", "epoch", "losses", "metrics", "lr", "epochTime") VALUES ${values}
              ON CONFLICT ("jobId", "epoch") DO UPDATE SET
                "losses" = "JobEpoch"."losses" || jsonb_strip_nulls(EXCLUDED."losses"),
                "metrics" = "JobEpoch"."metrics" || jsonb_strip_nulls(EXCLUDED."metrics"),
                "lr" = "JobEpoch"."lr" || jsonb_strip_nulls(EXCLUDED."lr"),
                "epochTime" = COALESCE(EXCLUDED."epochTime", "JobEpoch"."epochTime")`,
      );
    }
    return ops;
  }

  private logWrite(logs: JobLogLine[]) {
    // (jobId, seq) is the key: a line written twice (a replay after a crash) is skipped.
    return this.db.jobLog.createMany({
      data: logs.map((l) => ({ jobId: this.job.id, seq: l.seq, stream: l.stream, line: l.line, at: new Date(l.at) })),
      skipDuplicates: true,
    });
  }

  /** Writes an earlier spill (this recorder's or a dead worker's) before anything newer; returns its field updates and size. */
  private async replaySpill(): Promise<{ patch: JobPatch; bytes: number }> {
    const { records, bytes, skipped } = this.spill.read();
    if (skipped)
      this.opts.log.warn({ skipped, file: this.spill.path }, "spill file had unreadable lines (cut by a crash); the rest is replayed");
    const epochs = new Map<number, PendingEpoch>();
    const logs: JobLogLine[] = [];
    let patch: JobPatch = {};
    for (const r of records) {
      if (r.t === "epoch") {
        const prior = epochs.get(r.row.epoch);
        const fill = !!r.fill;
        if (!prior) epochs.set(r.row.epoch, { row: r.row, fill });
        else if (fill && !prior.fill) epochs.set(r.row.epoch, { row: mergeEpoch(r.row, prior.row), fill: false });
        else epochs.set(r.row.epoch, { row: mergeEpoch(prior.row, r.row), fill: prior.fill && fill });
      } else if (r.t === "log") logs.push(r.line);
      else if (r.t === "patch") patch = { ...patch, ...(r.fields as JobPatch) };
      else if (r.t === "delayed" && (!this.outageSince || new Date(r.at) < this.outageSince)) this.outageSince = new Date(r.at);
    }
    const ops = this.epochWrites([...epochs.values()]);
    if (ops.length) await this.db.$transaction(ops);
    // Lines the log trim would delete at once are not worth writing.
    const kept = logs.filter((l) => l.seq > this.seq - this.opts.maxLogLines);
    for (let i = 0; i < kept.length; i += 1_000) await this.logWrite(kept.slice(i, i + 1_000));
    this.writtenSinceTrim += kept.length;
    return { patch, bytes };
  }

  private async doFlush() {
    if (this.jobGone || this.opts.mayWrite?.() === false) return;
    if (this.liveLogs.length) {
      const lines = this.liveLogs;
      this.liveLogs = [];
      this.live.logLines(this.job.id, lines);
    }
    const heartbeatDue = Date.now() - this.lastWrite >= this.opts.heartbeatMs;
    if (!this.hasPending() && !this.spillPending && !this.outageSince && !heartbeatDue) return;
    const epochs = this.pendingEpochs;
    const logs = this.pendingLogs;
    const patch = this.patch;
    this.pendingEpochs = new Map();
    this.pendingLogs = [];
    this.pendingLogBytes = 0;
    this.patch = {};
    this.inFlight = { epochs, logs, patch };
    try {
      let spilledPatch: JobPatch = {};
      let spillBytes = 0;
      if (this.spillPending) ({ patch: spilledPatch, bytes: spillBytes } = await this.replaySpill());
      const ops = this.epochWrites([...epochs.values()]);
      if (logs.length) ops.push(this.logWrite(logs));
      ops.push(
        this.db.trainingJob.update({
          where: { id: this.job.id },
          data: { ...spilledPatch, ...patch, heartbeatAt: new Date() },
          select: { cancelRequestedAt: true },
        }),
      );
      const results = await this.db.$transaction(ops);
      this.inFlight = null;
      this.lastWrite = Date.now();
      if (spillBytes) this.spill.dropFirst(spillBytes);
      this.spillPending = this.spill.size() > 0;
      const row = results[results.length - 1] as { cancelRequestedAt: Date | null };
      if (row.cancelRequestedAt) this.opts.onCancelRequested();
      if (this.outageSince && !this.hasPending() && !this.spillPending) await this.reportCaughtUp(this.outageSince);
      this.writtenSinceTrim += logs.length;
      if (this.writtenSinceTrim >= 500 || (this.closing && this.writtenSinceTrim > 0)) {
        this.writtenSinceTrim = 0;
        await this.db.jobLog.deleteMany({ where: { jobId: this.job.id, seq: { lte: this.seq - this.opts.maxLogLines } } });
      }
    } catch (err) {
      this.inFlight = null;
      this.restore(epochs, logs, patch);
      if (err instanceof Prisma.PrismaClientKnownRequestError && JOB_GONE_CODES.has(err.code)) {
        this.opts.log.warn({ code: err.code }, "the job's row is gone; its progress is not recorded");
        this.jobGone = true;
        this.spill.dropFirst(Infinity);
        return;
      }
      this.opts.log.warn({ err: { message: (err as Error).message } }, "flush failed; kept and spilled, will retry");
      this.startOutage();
      try {
        this.spillUnspilled();
      } catch (spillErr) {
        this.opts.log.error(
          { err: { message: (spillErr as Error).message } },
          "could not spill the job's unwritten progress; keeping it in memory",
        );
      }
    }
  }

  /** Puts a failed flush's data back under anything queued since (newer wins). */
  private restore(epochs: Map<number, PendingEpoch>, logs: JobLogLine[], patch: JobPatch) {
    const newer = this.pendingEpochs;
    this.pendingEpochs = epochs;
    for (const p of newer.values()) this.queueEpoch(p.row, p.fill);
    this.pendingLogs = [...logs, ...this.pendingLogs];
    this.pendingLogBytes = this.pendingLogs.reduce((n, l) => n + l.line.length, 0);
    this.patch = { ...patch, ...this.patch };
    if (
      this.pendingLogs.length > (this.opts.maxPendingLogLines ?? 5_000) ||
      this.pendingLogBytes > (this.opts.maxPendingLogBytes ?? 4_000_000)
    )
      this.evictLogs();
  }

  private startOutage() {
    if (this.outageSince) return;
    this.outageSince = new Date();
    // The timeline row can only be written once Postgres is back; live pages hear of it now.
    this.live.event(this.job.id, {
      id: `recording-delayed-${this.outageSince.getTime()}`,
      kind: RECORDING_DELAYED,
      message: delayedMessage,
      createdAt: this.outageSince.toISOString(),
    });
  }

  private async reportCaughtUp(since: Date) {
    const now = new Date();
    const written = await this.db.$transaction(async (tx) => {
      // Idempotent: a recorder that died after writing these must not write them twice.
      const already = await tx.jobEvent.findFirst({
        where: { jobId: this.job.id, kind: RECORDING_DELAYED, createdAt: since },
        select: { id: true },
      });
      if (already) return [];
      const select = { id: true, kind: true, message: true, createdAt: true } as const;
      return [
        await tx.jobEvent.create({
          data: { jobId: this.job.id, kind: RECORDING_DELAYED, message: delayedMessage, createdAt: since },
          select,
        }),
        await tx.jobEvent.create({
          data: {
            jobId: this.job.id,
            kind: RECORDING_CAUGHT_UP,
            message: `Recording caught up after ${Math.max(1, Math.round((now.getTime() - since.getTime()) / 1000))} s: nothing was lost`,
            createdAt: now,
          },
          select,
        }),
      ];
    });
    this.outageSince = null;
    this.outageSpilled = false;
    for (const e of written) this.live.event(this.job.id, { ...e, createdAt: e.createdAt.toISOString() });
  }

  /** The best metric over every stored epoch, so epochs filled or merged after the fact count too. */
  private async recomputeBest() {
    const rows = await this.db.jobEpoch.findMany({ where: { jobId: this.job.id }, select: { epoch: true, metrics: true } });
    const best = bestEpochOf(rows.map((r) => ({ epoch: r.epoch, metrics: (r.metrics ?? {}) as Record<string, number | null> })));
    const fields: JobPatch = best ? { bestMetric: best.value, bestMetricName: best.name, bestEpoch: best.epoch } : {};
    if (this.filledFromCsv && rows.length) fields.currentEpoch = Math.max(...rows.map((r) => r.epoch));
    if (!Object.keys(fields).length) return;
    await this.db.trainingJob.update({ where: { id: this.job.id }, data: fields, select: { id: true } });
    this.best = best && { ...best, fitness: null };
    this.live.jobUpdated({ id: this.job.id, projectId: this.job.projectId, ...fields });
  }
}

const delayedMessage =
  "Recording delayed: the database was unreachable; the worker kept the job's progress and wrote it when the database was back";
