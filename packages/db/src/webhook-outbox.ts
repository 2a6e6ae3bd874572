import { z } from "zod";
import { WEBHOOK_DELIVER_JOB, type WebhookEvent, type WebhookPayload } from "@wyolo/contracts";
import type { ModelExport, Prisma, Sweep, TrainingJob } from "./generated/prisma/client.ts";
import { newId, type Db, type DbTx } from "./index.ts";

/**
 * The webhook outbox: one `WebhookDelivery` row per enabled webhook of the team subscribed to the
 * event, written in the transaction of the change it announces (so a change never goes
 * unannounced, and a rolled-back one is never announced). The workers deliver the rows
 * (apps/worker/src/webhooks). Links are paths here; the delivery makes them absolute.
 *
 * A sweep's trials announce nothing of their own (a sweep of 50 trials would post 50 messages);
 * the sweep announces its end.
 */

/** The payload without its envelope (id, event, time), as the event's source describes itself. */
export type WebhookBody = Omit<WebhookPayload, "id" | "event" | "createdAt">;

const JOB_EVENTS: Partial<Record<TrainingJob["status"], WebhookEvent>> = {
  SUCCEEDED: "job.succeeded",
  FAILED: "job.failed",
  CANCELLED: "job.cancelled",
};
const EXPORT_EVENTS: Partial<Record<ModelExport["status"], WebhookEvent>> = { SUCCEEDED: "export.succeeded", FAILED: "export.failed" };
const SWEEP_EVENTS: Partial<Record<Sweep["status"], WebhookEvent>> = { COMPLETED: "sweep.completed" };

const iso = (d: Date | null) => (d ? d.toISOString() : null);
const teamSelect = { select: { id: true, slug: true, name: true } } as const;
const projectSelect = { select: { id: true, slug: true, name: true, team: teamSelect } } as const;

type Place = { id: string; slug: string; name: string; team: { id: string; slug: string; name: string } };
const where = (p: Place) => ({ team: p.team, project: { id: p.id, slug: p.slug, name: p.name } });
const projectPath = (p: Place) => `/t/${p.team.slug}/p/${p.slug}`;

function jobSummary(job: TrainingJob): NonNullable<WebhookPayload["job"]> {
  return {
    id: job.id,
    name: job.name,
    status: job.status,
    task: job.task,
    model: job.model,
    bestMetric: job.bestMetric,
    bestMetricName: job.bestMetricName,
    bestEpoch: job.bestEpoch,
    failureClass: job.failureClass,
    failureReason: job.failureReason,
    startedAt: iso(job.startedAt),
    finishedAt: iso(job.finishedAt),
  };
}

/**
 * Writes the deliveries of `event` for the team's subscribed, enabled webhooks; `body` is only
 * built when there is one. Returns the new delivery ids (to enqueue after the commit).
 */
export async function recordWebhookEvent(
  tx: DbTx,
  teamId: string,
  event: WebhookEvent,
  body: () => Promise<WebhookBody>,
): Promise<string[]> {
  const hooks = await tx.webhook.findMany({ where: { teamId, enabled: true, events: { has: event } }, select: { id: true } });
  if (!hooks.length) return [];
  const payload: WebhookPayload = { id: newId(), event, createdAt: new Date().toISOString(), ...(await body()) };
  const rows = hooks.map((h) => ({ id: newId(), webhookId: h.id, event, payload: payload as unknown as Prisma.InputJsonValue }));
  await tx.webhookDelivery.createMany({ data: rows });
  return rows.map((r) => r.id);
}

/** A training's final status, announced (trials excepted). */
export async function recordJobWebhooks(tx: DbTx, job: TrainingJob): Promise<string[]> {
  const event = JOB_EVENTS[job.status];
  if (!event || job.sweepId) return [];
  const project = await tx.project.findUniqueOrThrow({ where: { id: job.projectId }, ...projectSelect });
  return recordWebhookEvent(tx, project.team.id, event, async () => ({
    ...where(project),
    job: jobSummary(job),
    links: { job: `${projectPath(project)}/jobs/${job.id}`, project: projectPath(project) },
  }));
}

export async function recordExportWebhooks(tx: DbTx, row: ModelExport): Promise<string[]> {
  const event = EXPORT_EVENTS[row.status];
  if (!event) return [];
  const job = await tx.trainingJob.findUniqueOrThrow({ where: { id: row.jobId }, include: { project: projectSelect } });
  const { project } = job;
  return recordWebhookEvent(tx, project.team.id, event, async () => ({
    ...where(project),
    job: jobSummary(job),
    export: { id: row.id, jobId: row.jobId, format: row.format, status: row.status, failureReason: row.failureReason },
    links: { job: `${projectPath(project)}/jobs/${job.id}`, project: projectPath(project) },
  }));
}

export async function recordSweepWebhooks(tx: DbTx, sweep: Sweep): Promise<string[]> {
  const event = SWEEP_EVENTS[sweep.status];
  if (!event) return [];
  const project = await tx.project.findUniqueOrThrow({ where: { id: sweep.projectId }, ...projectSelect });
  return recordWebhookEvent(tx, project.team.id, event, async () => ({
    ...where(project),
    sweep: { id: sweep.id, name: sweep.name, status: sweep.status, bestValue: sweep.bestValue, bestJobId: sweep.bestJobId },
    links: {
      sweep: `${projectPath(project)}/sweeps/${sweep.id}`,
      project: projectPath(project),
      ...(sweep.bestJobId ? { bestJob: `${projectPath(project)}/jobs/${sweep.bestJobId}` } : {}),
    },
  }));
}

/** PENDING deliveries whose attempt is due, oldest first (the workers' scan; also after a Redis loss). */
export async function dueDeliveries(db: Db, now: Date, take: number): Promise<{ id: string; attempts: number }[]> {
  return db.webhookDelivery.findMany({
    where: { status: "PENDING", nextAttemptAt: { lte: now } },
    select: { id: true, attempts: true },
    orderBy: { nextAttemptAt: "asc" },
    take,
  });
}

/** The queue entry of one attempt: a second add of the same attempt is a no-op while the first is queued or running. */
export const deliveryJobId = (deliveryId: string, attempts: number) => `${deliveryId}-a${attempts}`;

/** The queue entry of a delivery attempt (web: send test, redeliver; worker: the scan, after a commit). */
export const deliveryJobSchema = z.object({ deliveryId: z.string().min(1).max(64), attempts: z.number().int().min(0) });
export type DeliveryJob = z.infer<typeof deliveryJobSchema>;

/** Queues attempts (BullMQ `addBulk` of the webhook queue; WEBHOOK_DELIVER_JOB). Entries are dropped once done: the rows are the log. */
export function enqueueDeliveries(
  queue: {
    addBulk: (
      jobs: { name: string; data: DeliveryJob; opts: { jobId: string; removeOnComplete: true; removeOnFail: true } }[],
    ) => Promise<unknown>;
  },
  rows: { id: string; attempts: number }[],
): Promise<unknown> {
  return queue.addBulk(
    rows.map((r) => ({
      name: WEBHOOK_DELIVER_JOB,
      data: { deliveryId: r.id, attempts: r.attempts },
      opts: { jobId: deliveryJobId(r.id, r.attempts), removeOnComplete: true, removeOnFail: true },
    })),
  );
}

/** The event of "Send test": the same delivery path, no state change behind it. */
export const PING_EVENT = "ping";
export type PingPayload = Omit<WebhookPayload, "event"> & { event: typeof PING_EVENT };
export type DeliveryPayload = WebhookPayload | PingPayload;

export function pingPayload(team: { id: string; slug: string; name: string }): PingPayload {
  return { id: newId(), event: PING_EVENT, createdAt: new Date().toISOString(), team, links: { webhooks: `/t/${team.slug}/webhooks` } };
}
