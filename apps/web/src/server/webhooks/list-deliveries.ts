import "server-only";
import { z } from "zod";
import { db } from "../db";
import type { SessionUser } from "../auth/session";
import { webhookAccess } from "./webhook-access";
import { deliverySelect, deliverySummary } from "./summary";

export const listDeliveriesQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(25),
  /** The last id of the previous page. */
  cursor: z.string().trim().min(1).max(64).optional(),
});

/** Newest first, a page at a time. */
export async function listDeliveries(user: SessionUser, webhookId: string, query: z.infer<typeof listDeliveriesQuerySchema>) {
  await webhookAccess(user, webhookId);
  const after = query.cursor
    ? await db.webhookDelivery.findFirst({ where: { id: query.cursor, webhookId }, select: { createdAt: true, id: true } })
    : null;
  const rows = await db.webhookDelivery.findMany({
    where: {
      webhookId,
      ...(after ? { OR: [{ createdAt: { lt: after.createdAt } }, { createdAt: after.createdAt, id: { lt: after.id } }] } : {}),
    },
    select: deliverySelect,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: query.limit + 1,
  });
  const page = rows.slice(0, query.limit);
  return { deliveries: page.map(deliverySummary), nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
}
