import "server-only";
import { db } from "../db";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { WEBHOOK_PERMISSION } from "./webhook-access";
import { webhookSelect, webhookSummary } from "./summary";

export async function listWebhooks(user: SessionUser, teamId: string) {
  const { team } = await teamAccess(user, { id: teamId }, WEBHOOK_PERMISSION);
  const rows = await db.webhook.findMany({ where: { teamId: team.id }, select: webhookSelect, orderBy: { createdAt: "desc" } });
  return rows.map(webhookSummary);
}
