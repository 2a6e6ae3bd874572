import { updateWebhookSchema } from "@wyolo/contracts";
import { json, noContent, readJson, withAuth } from "@/server/http";
import { deleteWebhook } from "@/server/webhooks/delete-webhook";
import { getWebhook } from "@/server/webhooks/get-webhook";
import { updateWebhook } from "@/server/webhooks/update-webhook";

type P = { webhookId: string };

export const GET = withAuth<P>(async ({ user, params }) => json({ webhook: await getWebhook(user, params.webhookId) }));

export const PATCH = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, updateWebhookSchema);
  return json(await updateWebhook(user, params.webhookId, input, ip));
});

export const DELETE = withAuth<P>(async ({ user, params, ip }) => {
  await deleteWebhook(user, params.webhookId, ip);
  return noContent();
});
