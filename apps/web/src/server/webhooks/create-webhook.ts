import "server-only";
import type { CreateWebhookInput } from "@wyolo/contracts";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import type { SessionUser } from "../auth/session";
import { WEBHOOK_PERMISSION } from "./webhook-access";
import { checkWebhookUrl } from "./check-url";
import { displayUrl, newSigningSecret, seal } from "./secrets";
import { webhookSelect, webhookSummary } from "./summary";

/** A generic webhook gets a signing secret, answered here once (`secret`); a Slack one is not signed. */
export async function createWebhook(user: SessionUser, teamId: string, input: CreateWebhookInput, ip: string) {
  const { team } = await teamAccess(user, { id: teamId }, WEBHOOK_PERMISSION);
  await checkWebhookUrl(input.url);
  const secret = input.kind === "GENERIC" ? newSigningSecret() : null;
  const row = await db.$transaction(async (tx) => {
    const created = await tx.webhook.create({
      data: {
        teamId: team.id,
        name: input.name,
        kind: input.kind,
        urlEncrypted: seal(input.url),
        urlDisplay: displayUrl(input.url),
        secretEncrypted: secret ? seal(secret) : null,
        events: [...new Set(input.events)],
        enabled: input.enabled,
        createdById: user.id,
      },
      select: webhookSelect,
    });
    await audit(tx, {
      actorId: user.id,
      action: "webhook.create",
      targetType: "webhook",
      targetId: created.id,
      teamId: team.id,
      ip,
      metadata: { name: created.name, kind: created.kind, url: created.urlDisplay, events: created.events },
    });
    return created;
  });
  return { webhook: webhookSummary(row), secret };
}
