import "server-only";
import type { acceptInvitationSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { AppError } from "../errors";
import { hashPassword } from "../auth/password";
import type { SessionUser } from "../auth/session";
import { findUsableInvitation } from "./find-invitation";

/**
 * Accepts an invitation. A signed-in user joins with their own account (its email must match);
 * someone without an account signs up here with a name and password — the only way to sign up.
 * The invitation is marked used in the same transaction, guarded so two clicks cannot both use it.
 */
export async function acceptInvitation(user: SessionUser | null, input: z.infer<typeof acceptInvitationSchema>, ip: string) {
  const passwordHash = !user && input.password ? await hashPassword(input.password) : undefined;
  return db.$transaction(async (tx) => {
    const invitation = await findUsableInvitation(tx, input.token);
    let userId: string;
    if (user) {
      if (user.email !== invitation.email) throw new AppError("FORBIDDEN", `This invitation is for ${invitation.email}; sign in with that account`);
      userId = user.id;
    } else {
      const existing = await tx.user.findUnique({ where: { email: invitation.email }, select: { id: true } });
      if (existing) throw new AppError("CONFLICT", `An account for ${invitation.email} exists: sign in first, then open the link again`);
      const fields: Record<string, string[]> = {};
      if (!input.name) fields.name = ["Required"];
      if (!passwordHash) fields.password = ["Required"];
      if (Object.keys(fields).length) throw new AppError("VALIDATION_FAILED", "Name and password are required to create your account", fields);
      const created = await tx.user.create({ data: { email: invitation.email, name: input.name!, passwordHash }, select: { id: true } });
      userId = created.id;
    }
    const already = await tx.membership.findUnique({ where: { teamId_userId: { teamId: invitation.teamId, userId } }, select: { id: true } });
    if (already) throw new AppError("CONFLICT", "You are already a member of this team");
    const { count } = await tx.invitation.updateMany({
      where: { id: invitation.id, acceptedAt: null, revokedAt: null },
      data: { acceptedAt: new Date(), acceptedById: userId },
    });
    if (count !== 1) throw new AppError("GONE", "This invitation has already been used");
    await tx.membership.create({ data: { teamId: invitation.teamId, userId, role: invitation.role } });
    await audit(tx, { actorId: userId, action: "invitation.accept", targetType: "invitation", targetId: invitation.id, teamId: invitation.teamId, ip, metadata: { role: invitation.role, newAccount: !user } });
    return { teamSlug: invitation.team.slug, teamName: invitation.team.name, role: invitation.role, email: invitation.email, newAccount: !user };
  });
}
