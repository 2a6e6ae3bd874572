import "server-only";
import type { Prisma } from "@wyolo/db";

/** What the API shows of a webhook: never its URL (only `urlDisplay`) nor its secret. */
export const webhookSelect = {
  id: true,
  teamId: true,
  name: true,
  kind: true,
  urlDisplay: true,
  events: true,
  enabled: true,
  secretEncrypted: true,
  createdAt: true,
  updatedAt: true,
  deliveries: { take: 1, orderBy: { createdAt: "desc" }, select: { status: true, createdAt: true, lastStatusCode: true } },
} as const satisfies Prisma.WebhookSelect;

type WebhookRow = Prisma.WebhookGetPayload<{ select: typeof webhookSelect }>;

export function webhookSummary(row: WebhookRow) {
  const last = row.deliveries[0];
  return {
    id: row.id,
    teamId: row.teamId,
    name: row.name,
    kind: row.kind,
    url: row.urlDisplay,
    events: row.events,
    enabled: row.enabled,
    signed: row.secretEncrypted !== null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastDelivery: last ? { status: last.status, createdAt: last.createdAt.toISOString(), statusCode: last.lastStatusCode } : null,
  };
}
export type WebhookSummary = ReturnType<typeof webhookSummary>;

export const deliverySelect = {
  id: true,
  event: true,
  payload: true,
  status: true,
  attempts: true,
  nextAttemptAt: true,
  lastStatusCode: true,
  durationMs: true,
  responseSnippet: true,
  error: true,
  redeliveryOfId: true,
  createdAt: true,
  deliveredAt: true,
} as const satisfies Prisma.WebhookDeliverySelect;

type DeliveryRow = Prisma.WebhookDeliveryGetPayload<{ select: typeof deliverySelect }>;

export function deliverySummary(row: DeliveryRow) {
  return {
    ...row,
    nextAttemptAt: row.status === "PENDING" ? row.nextAttemptAt.toISOString() : null,
    createdAt: row.createdAt.toISOString(),
    deliveredAt: row.deliveredAt?.toISOString() ?? null,
  };
}
export type DeliverySummary = ReturnType<typeof deliverySummary>;
