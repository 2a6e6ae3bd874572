import { json, withAuth } from "@/server/http";
import { rotateWebhookSecret } from "@/server/webhooks/rotate-secret";

type P = { webhookId: string };

/** The new secret is in this answer only. */
export const POST = withAuth<P>(async ({ user, params, ip }) => json(await rotateWebhookSecret(user, params.webhookId, ip)));
