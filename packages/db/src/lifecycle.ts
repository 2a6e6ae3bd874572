import {
  allowedFrom,
  sweepAllowedFrom,
  TERMINAL_STATUSES,
  type ExportSummary,
  type JobEventRow,
  type JobStatus,
  type JobSummary,
  type SweepStatus,
  type SweepSummary,
  type TransitionCause,
} from "@wyolo/contracts";
import type { ModelExport, Prisma, Sweep, TrainingJob } from "./generated/prisma/client.ts";
import type { Db, DbTx } from "./index.ts";
import { recordExportWebhooks, recordJobWebhooks, recordSweepWebhooks } from "./webhook-outbox.ts";
import { registerSucceededJob } from "./model-registry.ts";

/**
 * The one place a training's or an export's status is written (the rules are @wyolo/contracts'
 * lifecycle tables). A change is a conditional update (only from a status the table allows for
 * this cause), its timeline entry and, for a user, its audit entry, in one transaction; the live
 * event follows the commit. Web and worker each wrap it with their own Redis emitter.
 */

export type TimelineEntry = { kind: string; message: string };
export type AuditInput = { actorId: string; action: string; teamId: string | null; ip: string | null; metadata?: Prisma.InputJsonValue };

type Common = {
  id: string;
  to: JobStatus;
  cause: TransitionCause;
  /** The timeline entry; a function when it names something read off the changed row (its worker). */
  entry?: TimelineEntry | ((row: { workerName: string | null }) => TimelineEntry);
  /** Required when the cause is a user: the change is audited in the same transaction. */
  audit?: AuditInput;
};
export type TrainingTransition = Common & {
  kind: "training";
  data?: Omit<Prisma.TrainingJobUpdateManyMutationInput, "status">;
  where?: Prisma.TrainingJobWhereInput;
};
export type ExportTransition = Common & {
  kind: "export";
  data?: Omit<Prisma.ModelExportUncheckedUpdateManyInput, "status">;
  where?: Prisma.ModelExportWhereInput;
};
export type Transition = TrainingTransition | ExportTransition;

/** What the live layer gets after a commit: the row's new state as the pages show it, and the timeline entry. */
export type LifecycleNotice =
  | { kind: "training"; jobId: string; patch: Partial<JobSummary> & { id: string; projectId: string }; event: JobEventRow | null }
  | { kind: "export"; jobId: string; patch: Partial<ExportSummary> & { id: string; jobId: string }; event: JobEventRow | null }
  | { kind: "note"; jobId: string; event: JobEventRow }
  | { kind: "sweep"; sweepId: string; patch: Partial<SweepSummary> & { id: string; projectId: string } };

/** A sweep's status change (SWEEP_TRANSITIONS); audited when the cause is a user. */
export type SweepTransition = {
  id: string;
  to: SweepStatus;
  cause: TransitionCause;
  data?: Omit<Prisma.SweepUpdateManyMutationInput, "status">;
  where?: Prisma.SweepWhereInput;
  audit?: AuditInput;
};
export type SweepTransitionResult = { applied: true; row: Sweep } | { applied: false; status: SweepStatus | null };

export function sweepPatch(row: Sweep): Partial<SweepSummary> & { id: string; projectId: string } {
  return {
    id: row.id,
    projectId: row.projectId,
    status: row.status,
    nTrials: row.nTrials,
    bestValue: row.bestValue,
    bestTrialNumber: row.bestTrialNumber,
    bestJobId: row.bestJobId,
    failureReason: row.failureReason,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    cancelRequestedAt: iso(row.cancelRequestedAt),
    mlflowExperimentId: row.mlflowExperimentId,
    mlflowRunId: row.mlflowRunId,
  };
}

export type TransitionResult<T extends Transition> =
  | { applied: true; row: T extends TrainingTransition ? TrainingJob : ModelExport; event: JobEventRow | null }
  /** `refused`: not allowed from the row's status (`status`; null when the table never allows it); otherwise the row is gone or `where` did not match. */
  | { applied: false; refused: boolean; status: JobStatus | null };

type LifecycleLog = {
  warn: (obj: object, msg: string) => void;
  error: (obj: object, msg: string) => void;
  debug: (obj: object, msg: string) => void;
};

const eventSelect = { id: true, kind: true, message: true, createdAt: true } as const;
const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function trainingPatch(row: TrainingJob): Partial<JobSummary> & { id: string; projectId: string } {
  return {
    id: row.id,
    projectId: row.projectId,
    status: row.status,
    workerName: row.workerName,
    attempt: row.attempt,
    progress: row.progress,
    etaSeconds: row.etaSeconds,
    failureReason: row.failureReason,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    cancelRequestedAt: iso(row.cancelRequestedAt),
    heartbeatAt: iso(row.heartbeatAt),
  };
}

export function exportPatch(row: ModelExport): Partial<ExportSummary> & { id: string; jobId: string } {
  return {
    id: row.id,
    jobId: row.jobId,
    status: row.status,
    workerName: row.workerName,
    failureReason: row.failureReason,
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
  };
}

/**
 * A timeline entry inside the caller's transaction, for a row's creation (its first state is no
 * transition); the caller publishes it after the commit. Audited when `audit` is given.
 */
export async function writeTimelineEntry(tx: DbTx, jobId: string, entry: TimelineEntry, audit?: AuditInput): Promise<JobEventRow> {
  const e = await tx.jobEvent.create({ data: { jobId, kind: entry.kind, message: entry.message.slice(0, 500) }, select: eventSelect });
  if (audit) await tx.auditLog.create({ data: { ...audit, targetType: "job", targetId: jobId } });
  return { ...e, createdAt: e.createdAt.toISOString() };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;

export function createLifecycle(deps: {
  db: Db;
  publish: (notice: LifecycleNotice) => void;
  log: LifecycleLog;
  /** A sweep's trial job reached a final status: its sweep must advance (tell Optuna, ask the next trial). */
  onTrialEnded?: (sweepId: string, jobId: string) => void;
  /** Webhook deliveries written with a change (webhook-outbox.ts), after its commit: queue them now (the workers' scan would find them anyway). */
  onWebhookDeliveries?: (deliveryIds: string[]) => void;
  /** The caller's additions to every audit entry (the web app: the API token of the call). */
  auditMetadata?: (metadata: Prisma.InputJsonValue | undefined) => Prisma.InputJsonValue | undefined;
}) {
  const { db, publish, log } = deps;
  const audited = (audit: AuditInput | undefined): AuditInput | undefined => {
    if (!audit || !deps.auditMetadata) return audit;
    const metadata = deps.auditMetadata(audit.metadata);
    return metadata === undefined ? audit : { ...audit, metadata };
  };

  async function transition<T extends Transition>(t: T): Promise<TransitionResult<T>> {
    const from = allowedFrom(t.kind, t.to, t.cause);
    if (!from.length || (t.cause === "user" && !t.audit)) {
      log.error({ kind: t.kind, id: t.id, to: t.to, cause: t.cause }, "illegal status change refused");
      return { applied: false, refused: true, status: null };
    }
    const done = await db.$transaction(async (tx) => {
      // The conditional update takes the row lock: a concurrent change waits, then finds the status moved on.
      const { count } =
        t.kind === "training"
          ? await tx.trainingJob.updateMany({
              where: { AND: [{ id: t.id, status: { in: from } }, t.where ?? {}] },
              data: { ...t.data, status: t.to },
            })
          : await tx.modelExport.updateMany({
              where: { AND: [{ id: t.id, status: { in: from } }, t.where ?? {}] },
              data: { ...t.data, status: t.to },
            });
      if (count === 0) return null;
      const row =
        t.kind === "training"
          ? await tx.trainingJob.findUniqueOrThrow({ where: { id: t.id } })
          : await tx.modelExport.findUniqueOrThrow({ where: { id: t.id } });
      const jobId = "jobId" in row ? row.jobId : row.id;
      const targetType = t.kind === "training" ? "job" : t.kind;
      const entry = typeof t.entry === "function" ? t.entry(row) : t.entry;
      const event = entry ? await writeTimelineEntry(tx, jobId, entry) : null;
      if (t.audit) await tx.auditLog.create({ data: { ...audited(t.audit)!, targetType, targetId: t.id } });
      const deliveries = "jobId" in row ? await recordExportWebhooks(tx, row) : await recordJobWebhooks(tx, row);
      // A succeeded training's best.pt becomes a model version in the same transaction (model-registry.ts).
      const registered = "jobId" in row ? null : await registerSucceededJob(tx, row);
      if (registered) deliveries.push(...registered.deliveries);
      return { row, jobId, event, deliveries };
    });
    if (!done) {
      const current =
        t.kind === "training"
          ? await db.trainingJob.findUnique({ where: { id: t.id }, select: { status: true } })
          : await db.modelExport.findUnique({ where: { id: t.id }, select: { status: true } });
      const status = current?.status ?? null;
      // Not allowed from where the row is (often a race lost: it ended meanwhile), or `where` did not match.
      const refused = status !== null && !from.includes(status);
      if (refused)
        log.warn(
          { kind: t.kind, id: t.id, from: status, to: t.to, cause: t.cause },
          "status change refused: not allowed from the row's status",
        );
      else
        log.debug(
          { kind: t.kind, id: t.id, to: t.to, cause: t.cause, status },
          "status change not applied: the row is gone or its condition did not match",
        );
      return { applied: false, refused, status };
    }
    const { row, jobId, event, deliveries } = done;
    if (deliveries.length) deps.onWebhookDeliveries?.(deliveries);
    publish(
      "jobId" in row
        ? { kind: "export", jobId, patch: exportPatch(row), event }
        : { kind: "training", jobId, patch: trainingPatch(row), event },
    );
    if (!("jobId" in row) && row.sweepId && TERMINAL_STATUSES.includes(row.status)) deps.onTrialEnded?.(row.sweepId, row.id);
    return { applied: true, row: row as TransitionResult<T> extends { row: infer R } ? R : never, event };
  }

  /** A timeline entry on its own (no status change); audited when `audit` is given. */
  async function note(jobId: string, entry: TimelineEntry, audit?: AuditInput): Promise<JobEventRow> {
    const event = await db.$transaction((tx) => writeTimelineEntry(tx, jobId, entry, audited(audit)));
    publish({ kind: "note", jobId, event });
    return event;
  }

  /** The one place a sweep's status is written: a conditional update (from what SWEEP_TRANSITIONS allows), audited for a user. */
  async function transitionSweep(t: SweepTransition): Promise<SweepTransitionResult> {
    const from = sweepAllowedFrom(t.to, t.cause);
    if (!from.length || (t.cause === "user" && !t.audit)) {
      log.error({ kind: "sweep", id: t.id, to: t.to, cause: t.cause }, "illegal status change refused");
      return { applied: false, status: null };
    }
    const done = await db.$transaction(async (tx) => {
      const { count } = await tx.sweep.updateMany({
        where: { AND: [{ id: t.id, status: { in: from } }, t.where ?? {}] },
        data: { ...t.data, status: t.to },
      });
      if (count === 0) return null;
      if (t.audit) await tx.auditLog.create({ data: { ...audited(t.audit)!, targetType: "sweep", targetId: t.id } });
      const changed = await tx.sweep.findUniqueOrThrow({ where: { id: t.id } });
      return { changed, deliveries: await recordSweepWebhooks(tx, changed) };
    });
    if (!done) {
      const current = await db.sweep.findUnique({ where: { id: t.id }, select: { status: true } });
      log.debug({ kind: "sweep", id: t.id, to: t.to, cause: t.cause, status: current?.status }, "sweep status change not applied");
      return { applied: false, status: current?.status ?? null };
    }
    const row = done.changed;
    if (done.deliveries.length) deps.onWebhookDeliveries?.(done.deliveries);
    publish({ kind: "sweep", sweepId: row.id, patch: sweepPatch(row) });
    return { applied: true, row };
  }

  return { transition, note, transitionSweep };
}
