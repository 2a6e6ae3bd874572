import "server-only";
import { PING_EVENT, pingPayload } from "@wyolo/db/webhook-outbox";
import { newId } from "@wyolo/db";
import { db } from "../db";
import type { SessionUser } from "../auth/session";
import { webhookAccess } from "./webhook-access";
import { queueNewDeliveries } from "./queue";
import { deliverySelect, deliverySummary } from "./summary";

/** "Send test": a `ping` delivery through the same path as every event (a disabled webhook too). */
export async function sendTestDelivery(user: SessionUser, webhookId: string) {
  const { team } = await webhookAccess(user, webhookId);
  const row = await db.webhookDelivery.create({
    data: { id: newId(), webhookId, event: PING_EVENT, payload: pingPayload(team) },
    select: deliverySelect,
  });
  await queueNewDeliveries([row.id]);
  return deliverySummary(row);
}
