import { json, withAuth } from "@/server/http";
import { sendTestDelivery } from "@/server/webhooks/send-test";

type P = { webhookId: string };

/** Queues a `ping` delivery; the delivery log shows how it went. */
export const POST = withAuth<P>(async ({ user, params }) => json({ delivery: await sendTestDelivery(user, params.webhookId) }, 202));
