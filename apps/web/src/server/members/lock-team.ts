import "server-only";
import type { DbTx } from "@wyolo/db";

/** Serialises membership changes of one team, so two owners cannot both step down at once. */
export async function lockTeam(tx: DbTx, teamId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM "Team" WHERE "id" = ${teamId} FOR UPDATE`;
}

export async function ownerCount(tx: DbTx, teamId: string): Promise<number> {
  return tx.membership.count({ where: { teamId, role: "OWNER" } });
}

/** A member as the members API sees one: a service account is managed through its token (revoke), never here. */
export async function findMember(tx: DbTx, teamId: string, userId: string) {
  return tx.membership.findFirst({ where: { teamId, userId, user: { serviceAccount: false } }, select: { id: true, role: true } });
}
