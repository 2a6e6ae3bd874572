import "server-only";
import { newId, type Prisma } from "@wyolo/db";
import { db } from "../db";
import { notFound } from "../errors";
import type { SessionUser } from "../auth/session";
import { webhookAccess } from "./webhook-access";
import { queueNewDeliveries } from "./queue";
import { deliverySelect, deliverySummary } from "./summary";

/** A new delivery of the same payload (same event id, so receivers can tell a repeat), with a fresh retry window. */
export async function redeliver(user: SessionUser, webhookId: string, deliveryId: string) {
  await webhookAccess(user, webhookId);
  const original = await db.webhookDelivery.findFirst({ where: { id: deliveryId, webhookId }, select: { event: true, payload: true } });
  if (!original) throw notFound("Delivery not found");
  const row = await db.webhookDelivery.create({
    data: {
      id: newId(),
      webhookId,
      event: original.event,
      payload: original.payload as Prisma.InputJsonValue,
      redeliveryOfId: deliveryId,
    },
    select: deliverySelect,
  });
  await queueNewDeliveries([row.id]);
  return deliverySummary(row);
}
