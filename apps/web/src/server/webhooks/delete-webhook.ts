import "server-only";
import { db } from "../db";
import { audit } from "../audit";
import type { SessionUser } from "../auth/session";
import { webhookAccess } from "./webhook-access";

/** Its delivery log goes with it (cascade); queued attempts find no row and end. */
export async function deleteWebhook(user: SessionUser, webhookId: string, ip: string): Promise<void> {
  const { team } = await webhookAccess(user, webhookId);
  await db.$transaction(async (tx) => {
    const row = await tx.webhook.delete({ where: { id: webhookId }, select: { name: true, urlDisplay: true } });
    await audit(tx, {
      actorId: user.id,
      action: "webhook.delete",
      targetType: "webhook",
      targetId: webhookId,
      teamId: team.id,
      ip,
      metadata: { name: row.name, url: row.urlDisplay },
    });
  });
}
