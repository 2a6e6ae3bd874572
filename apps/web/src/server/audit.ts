import "server-only";
import type { Db, Prisma } from "@wyolo/db";

type Tx = Pick<Db, "auditLog">;

export type AuditEntry = {
  actorId: string | null;
  action: string;
  targetType: string;
  targetId?: string | null;
  teamId?: string | null;
  ip?: string | null;
  metadata?: Prisma.InputJsonValue;
};

/** Written inside the same transaction as the change it records. Never put secrets in metadata. */
export function audit(tx: Tx, entry: AuditEntry) {
  return tx.auditLog.create({ data: entry });
}
