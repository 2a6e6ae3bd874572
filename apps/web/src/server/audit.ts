import "server-only";
import { AsyncLocalStorage } from "node:async_hooks";
import type { Db, Prisma } from "@wyolo/db";
import type { TokenGrant } from "@wyolo/contracts";

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

// The API token of the request being handled (http.ts runs each handler inside it), so every
// entry a token-authenticated call writes says which token did it, without each action passing it.
const tokenCall = new AsyncLocalStorage<{ tokenId: string }>();

export function withAuditToken<T>(grant: TokenGrant | undefined, fn: () => T): T {
  return grant ? tokenCall.run({ tokenId: grant.tokenId }, fn) : fn();
}

function withTokenId(metadata: Prisma.InputJsonValue | undefined, tokenId: string): Prisma.InputJsonValue {
  if (metadata === undefined) return { tokenId };
  if (typeof metadata === "object" && metadata !== null && !Array.isArray(metadata)) return { ...metadata, tokenId };
  return { value: metadata, tokenId };
}

/**
 * An entry's metadata with the token of the current call, for audit rows written elsewhere than
 * through audit() (raw SQL inserts, @wyolo/db's lifecycle).
 */
export function auditMetadata(metadata?: Prisma.InputJsonValue): Prisma.InputJsonValue | undefined {
  const tokenId = tokenCall.getStore()?.tokenId;
  return tokenId ? withTokenId(metadata, tokenId) : metadata;
}

/** Written inside the same transaction as the change it records. Never put secrets in metadata. */
export function audit(tx: Tx, entry: AuditEntry) {
  const metadata = auditMetadata(entry.metadata);
  return tx.auditLog.create({ data: metadata === undefined ? entry : { ...entry, metadata } });
}
