import "server-only";
import { db } from "../db";
import type { SessionUser } from "../auth/session";
import { webhookAccess } from "./webhook-access";
import { webhookSelect, webhookSummary } from "./summary";

export async function getWebhook(user: SessionUser, webhookId: string) {
  await webhookAccess(user, webhookId);
  return webhookSummary(await db.webhook.findUniqueOrThrow({ where: { id: webhookId }, select: webhookSelect }));
}
