import "server-only";
import { db } from "../db";
import { audit } from "../audit";
import { AppError } from "../errors";
import type { SessionUser } from "../auth/session";
import { webhookAccess } from "./webhook-access";
import { newSigningSecret, seal } from "./secrets";

/** A new signing secret, answered once; the old one stops signing at once. */
export async function rotateWebhookSecret(user: SessionUser, webhookId: string, ip: string): Promise<{ secret: string }> {
  const { team } = await webhookAccess(user, webhookId);
  const secret = newSigningSecret();
  await db.$transaction(async (tx) => {
    const { count } = await tx.webhook.updateMany({ where: { id: webhookId, kind: "GENERIC" }, data: { secretEncrypted: seal(secret) } });
    if (count === 0) throw new AppError("CONFLICT", "Slack webhooks are not signed: there is no secret to rotate");
    await audit(tx, { actorId: user.id, action: "webhook.rotate_secret", targetType: "webhook", targetId: webhookId, teamId: team.id, ip });
  });
  return { secret };
}
