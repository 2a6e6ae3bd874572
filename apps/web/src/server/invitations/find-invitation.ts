import "server-only";
import type { DbTx } from "@wyolo/db";
import { AppError } from "../errors";
import { hashInviteToken } from "./token";

/** A usable invitation for this token, or the reason it is not usable (404 unknown/revoked, 410 used/expired). */
export async function findUsableInvitation(tx: Pick<DbTx, "invitation">, token: string) {
  const invitation = await tx.invitation.findUnique({
    where: { tokenHash: hashInviteToken(token) },
    select: {
      id: true,
      teamId: true,
      email: true,
      role: true,
      expiresAt: true,
      acceptedAt: true,
      revokedAt: true,
      team: { select: { name: true, slug: true } },
    },
  });
  if (!invitation || invitation.revokedAt) throw new AppError("NOT_FOUND", "This invitation link is not valid");
  if (invitation.acceptedAt) throw new AppError("GONE", "This invitation has already been used");
  if (invitation.expiresAt <= new Date()) throw new AppError("GONE", "This invitation has expired; ask for a new one");
  return invitation;
}
