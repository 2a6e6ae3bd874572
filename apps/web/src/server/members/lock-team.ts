import "server-only";
import type { DbTx } from "@wyolo/db";

/** Serialises membership changes of one team, so two owners cannot both step down at once. */
export async function lockTeam(tx: DbTx, teamId: string): Promise<void> {
  await tx.$queryRaw`SELECT 1 FROM "Team" WHERE "id" = ${teamId} FOR UPDATE`;
}

export async function ownerCount(tx: DbTx, teamId: string): Promise<number> {
  return tx.membership.count({ where: { teamId, role: "OWNER" } });
}
