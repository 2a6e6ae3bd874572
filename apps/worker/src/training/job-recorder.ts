import type { Db, Prisma } from "@wyolo/db";
import { pickBestMetric, type EpochEvent, type JobEpochRow, type JobLogLine, type JobSummary } from "@wyolo/contracts";
import type { Logger } from "../logger.ts";
import type { LivePublisher } from "../realtime.ts";

type JobPatch = Partial<Pick<JobSummary, "status" | "currentEpoch" | "totalEpochs" | "progress" | "etaSeconds" | "bestMetric" | "bestMetricName" | "workerName" | "attempt" | "failureReason">> & { bestEpoch?: number };

const MAX_PENDING_LOGS = 20_000;

/**
 * Collects a running job's progress, metrics and output and writes them to Postgres in batches
 * (one flush per interval, not a write per line). Live subscribers get every change at once
 * through the emitter. A failed flush keeps its data for the next one.
 */
export class JobRecorder {
  private pendingEpochs: JobEpochRow[] = [];
  private pendingLogs: JobLogLine[] = [];
  private liveLogs: JobLogLine[] = [];
  private patch: JobPatch = {};
  private best: { name: string; value: number; epoch: number } | null;
  private lastWrite = 0;
  private flushing: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private writtenSinceTrim = 0;

  constructor(
    private readonly db: Db,
    private readonly live: LivePublisher,
    private readonly job: { id: string; projectId: string; bestMetric: number | null; bestMetricName: string | null; bestEpoch: number | null },
    private seq: number,
    private readonly opts: { flushMs: number; heartbeatMs: number; maxLogLines: number; log: Logger; onCancelRequested: () => void; onEpoch?: (row: JobEpochRow) => void },
  ) {
    this.best = job.bestMetric != null && job.bestMetricName && job.bestEpoch != null ? { name: job.bestMetricName, value: job.bestMetric, epoch: job.bestEpoch } : null;
  }

  start() {
    this.timer = setInterval(() => void this.flush(), this.opts.flushMs);
  }

  update(fields: JobPatch) {
    Object.assign(this.patch, fields);
    this.live.jobUpdated({ id: this.job.id, projectId: this.job.projectId, ...fields });
  }

  epoch(ev: EpochEvent) {
    const row: JobEpochRow = { epoch: ev.epoch, losses: ev.losses, metrics: ev.metrics, lr: ev.lr, epochTime: ev.epochTime ?? null };
    this.pendingEpochs.push(row);
    this.opts.onEpoch?.(row);
    const candidate = pickBestMetric(ev.metrics);
    if (candidate && (!this.best || this.best.name !== candidate.name || candidate.value > this.best.value)) {
      this.best = { ...candidate, epoch: ev.epoch };
    }
    this.live.epoch(this.job.id, row);
    this.update({
      currentEpoch: ev.epoch,
      totalEpochs: ev.totalEpochs,
      progress: Math.min(1, ev.epoch / ev.totalEpochs),
      etaSeconds: ev.eta == null ? null : Math.round(ev.eta),
      ...(this.best ? { bestMetric: this.best.value, bestMetricName: this.best.name, bestEpoch: this.best.epoch } : {}),
    });
    // Epochs are rare and precious: write now rather than at the next tick, so a worker that
    // dies right after an epoch has still recorded it.
    void this.flush();
  }

  output(stream: JobLogLine["stream"], line: string) {
    const entry: JobLogLine = { seq: ++this.seq, stream, line, at: new Date().toISOString() };
    this.pendingLogs.push(entry);
    this.liveLogs.push(entry);
    if (this.pendingLogs.length > MAX_PENDING_LOGS) this.pendingLogs.splice(0, this.pendingLogs.length - MAX_PENDING_LOGS);
  }

  /** The last lines of output, for a failure message. */
  tail(n = 30): string {
    return this.recent.slice(-n).join("\n");
  }
  private recent: string[] = [];

  async event(kind: string, message: string) {
    const event = await this.db.jobEvent.create({ data: { jobId: this.job.id, kind, message }, select: { id: true, kind: true, message: true, createdAt: true } });
    this.live.event(this.job.id, { ...event, createdAt: event.createdAt.toISOString() });
  }

  flush(): Promise<void> {
    this.flushing ??= this.doFlush().finally(() => (this.flushing = null));
    return this.flushing;
  }

  private async doFlush() {
    if (this.liveLogs.length) {
      const lines = this.liveLogs;
      this.liveLogs = [];
      for (const l of lines) this.recent.push(`${l.stream === "stderr" ? "! " : ""}${l.line}`);
      if (this.recent.length > 200) this.recent.splice(0, this.recent.length - 200);
      this.live.logLines(this.job.id, lines);
    }
    const epochs = this.pendingEpochs;
    const logs = this.pendingLogs;
    const patch = this.patch;
    const heartbeatDue = Date.now() - this.lastWrite >= this.opts.heartbeatMs;
    if (!epochs.length && !logs.length && !Object.keys(patch).length && !heartbeatDue) return;
    this.pendingEpochs = [];
    this.pendingLogs = [];
    this.patch = {};
    try {
      const ops: Prisma.PrismaPromise<unknown>[] = epochs.map((e) => {
        const data = { losses: e.losses, metrics: e.metrics, lr: e.lr, epochTime: e.epochTime };
        // A resumed run may train an epoch again: its newest numbers win.
        return this.db.jobEpoch.upsert({ where: { jobId_epoch: { jobId: this.job.id, epoch: e.epoch } }, create: { jobId: this.job.id, epoch: e.epoch, ...data }, update: data });
      });
      if (logs.length) ops.push(this.db.jobLog.createMany({ data: logs.map((l) => ({ jobId: this.job.id, seq: l.seq, stream: l.stream, line: l.line, at: new Date(l.at) })), skipDuplicates: true }));
      ops.push(this.db.trainingJob.update({ where: { id: this.job.id }, data: { ...patch, heartbeatAt: new Date() }, select: { cancelRequestedAt: true } }));
      const results = await this.db.$transaction(ops);
      this.lastWrite = Date.now();
      const row = results[results.length - 1] as { cancelRequestedAt: Date | null };
      if (row.cancelRequestedAt) this.opts.onCancelRequested();
      this.writtenSinceTrim += logs.length;
      if (this.writtenSinceTrim >= 500 || (this.closing && this.writtenSinceTrim > 0)) {
        this.writtenSinceTrim = 0;
        await this.db.jobLog.deleteMany({ where: { jobId: this.job.id, seq: { lte: this.seq - this.opts.maxLogLines } } });
      }
    } catch (err) {
      this.opts.log.warn({ err: { message: (err as Error).message } }, "flush failed; will retry");
      this.pendingEpochs = [...epochs, ...this.pendingEpochs];
      this.pendingLogs = [...logs, ...this.pendingLogs].slice(-MAX_PENDING_LOGS);
      this.patch = { ...patch, ...this.patch };
    }
  }

  private closing = false;

  private hasPending(): boolean {
    return this.pendingEpochs.length > 0 || this.pendingLogs.length > 0 || this.liveLogs.length > 0 || Object.keys(this.patch).length > 0;
  }

  /** Stops the timer and writes everything still pending (waiting out a flush already under way). */
  async close() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.closing = true;
    // A failed flush keeps its data, so try a few times before giving up on the rest.
    for (let attempt = 0; attempt < 5 && (this.flushing || this.hasPending()); attempt++) {
      await (this.flushing ?? this.flush());
    }
  }
}
