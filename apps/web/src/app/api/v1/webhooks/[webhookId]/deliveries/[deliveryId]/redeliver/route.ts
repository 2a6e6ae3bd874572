import { json, withAuth } from "@/server/http";
import { redeliver } from "@/server/webhooks/redeliver";

type P = { webhookId: string; deliveryId: string };

export const POST = withAuth<P>(async ({ user, params }) =>
  json({ delivery: await redeliver(user, params.webhookId, params.deliveryId) }, 202),
);
