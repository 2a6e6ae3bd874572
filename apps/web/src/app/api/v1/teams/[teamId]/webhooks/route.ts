import { createWebhookSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { createWebhook } from "@/server/webhooks/create-webhook";
import { listWebhooks } from "@/server/webhooks/list-webhooks";

type P = { teamId: string };

export const GET = withAuth<P>(async ({ user, params }) => json({ webhooks: await listWebhooks(user, params.teamId) }));

/** `secret` (generic webhooks) is in this answer only. */
export const POST = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, createWebhookSchema);
  return json(await createWebhook(user, params.teamId, input, ip), 201);
});
