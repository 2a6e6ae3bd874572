import "server-only";
import type { z } from "zod";
import type { updateWebhookSchema } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import type { SessionUser } from "../auth/session";
import { webhookAccess } from "./webhook-access";
import { checkWebhookUrl } from "./check-url";
import { displayUrl, newSigningSecret, seal } from "./secrets";
import { webhookSelect, webhookSummary } from "./summary";

/** A change to GENERIC of a webhook without a secret creates one (answered once, as at create); to SLACK drops it. */
export async function updateWebhook(user: SessionUser, webhookId: string, input: z.infer<typeof updateWebhookSchema>, ip: string) {
  const { team } = await webhookAccess(user, webhookId);
  if (input.url !== undefined) await checkWebhookUrl(input.url);
  const current = await db.webhook.findUniqueOrThrow({ where: { id: webhookId }, select: { kind: true, secretEncrypted: true } });
  const kind = input.kind ?? current.kind;
  const secret = kind === "GENERIC" && !current.secretEncrypted ? newSigningSecret() : null;
  const row = await db.$transaction(async (tx) => {
    const updated = await tx.webhook.update({
      where: { id: webhookId },
      data: {
        name: input.name,
        kind: input.kind,
        enabled: input.enabled,
        events: input.events ? [...new Set(input.events)] : undefined,
        ...(input.url !== undefined ? { urlEncrypted: seal(input.url), urlDisplay: displayUrl(input.url) } : {}),
        ...(secret ? { secretEncrypted: seal(secret) } : kind === "SLACK" ? { secretEncrypted: null } : {}),
      },
      select: webhookSelect,
    });
    await audit(tx, {
      actorId: user.id,
      action: "webhook.update",
      targetType: "webhook",
      targetId: webhookId,
      teamId: team.id,
      ip,
      // Which fields changed, never the URL itself.
      metadata: { changed: Object.keys(input).filter((k) => input[k as keyof typeof input] !== undefined) },
    });
    return updated;
  });
  return { webhook: webhookSummary(row), secret };
}
