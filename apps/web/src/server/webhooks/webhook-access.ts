import "server-only";
import { db } from "../db";
import { teamAccess, type TeamAccess } from "../access";
import { notFound } from "../errors";
import type { SessionUser } from "../auth/session";

/** Managing a team's webhooks is the team's ADMIN's (team.update); another team's webhook is 404. */
export const WEBHOOK_PERMISSION = "team.update" as const;

export async function webhookAccess(user: SessionUser, webhookId: string): Promise<TeamAccess & { webhookId: string }> {
  const row = await db.webhook.findUnique({ where: { id: webhookId }, select: { teamId: true } });
  if (!row) throw notFound("Webhook not found");
  const access = await teamAccess(user, { id: row.teamId }, WEBHOOK_PERMISSION).catch((err: unknown) => {
    // A team the caller cannot see must not reveal that the webhook exists.
    throw err instanceof Error && "code" in err && err.code === "NOT_FOUND" ? notFound("Webhook not found") : err;
  });
  return { ...access, webhookId };
}
