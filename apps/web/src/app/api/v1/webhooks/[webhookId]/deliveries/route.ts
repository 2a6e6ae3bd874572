import { json, readQuery, withAuth } from "@/server/http";
import { listDeliveries, listDeliveriesQuerySchema } from "@/server/webhooks/list-deliveries";

type P = { webhookId: string };

export const GET = withAuth<P>(async ({ req, user, params }) =>
  json(await listDeliveries(user, params.webhookId, readQuery(req, listDeliveriesQuerySchema))),
);
