import "server-only";
import { db } from "../db";
import { findUsableInvitation } from "./find-invitation";

/** What the accept page shows before anyone signs in: team, role, invited email and whether it has an account. */
export async function previewInvitation(token: string) {
  const invitation = await db.$transaction((tx) => findUsableInvitation(tx, token));
  const existing = await db.user.findUnique({ where: { email: invitation.email }, select: { id: true } });
  return {
    teamName: invitation.team.name,
    teamSlug: invitation.team.slug,
    email: invitation.email,
    role: invitation.role,
    expiresAt: invitation.expiresAt,
    hasAccount: !!existing,
  };
}
