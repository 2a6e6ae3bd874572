import "server-only";
import type { acceptInvitationSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { AppError } from "../errors";
import { isUniqueViolation } from "../db-errors";
import { hashPassword } from "../auth/password";
import type { SessionUser } from "../auth/session";
import { findUsableInvitation } from "./find-invitation";

/**
 * Accepts an invitation. A signed-in user joins with their own account (its email must match);
 * someone without an account signs up here with a name and password — the only way to sign up.
 * The invitation is claimed first, in the same transaction: parallel accepts wait on its row
 * and then find it used (410) instead of racing to create the same account or membership.
 */
export async function acceptInvitation(user: SessionUser | null, input: z.infer<typeof acceptInvitationSchema>, ip: string) {
  const passwordHash = !user && input.password ? await hashPassword(input.password) : undefined;
  try {
    return await db.$transaction(async (tx) => {
      const invitation = await findUsableInvitation(tx, input.token);
      if (user) {
        if (user.email !== invitation.email)
          throw new AppError("FORBIDDEN", `This invitation is for ${invitation.email}; sign in with that account`);
        const already = await tx.membership.findUnique({
          where: { teamId_userId: { teamId: invitation.teamId, userId: user.id } },
          select: { id: true },
        });
        if (already) throw new AppError("CONFLICT", "You are already a member of this team");
      } else {
        const existing = await tx.user.findUnique({ where: { email: invitation.email }, select: { id: true } });
        if (existing) throw new AppError("CONFLICT", `An account for ${invitation.email} exists: sign in first, then open the link again`);
        const fields: Record<string, string[]> = {};
        if (!input.name) fields.name = ["Required"];
        if (!passwordHash) fields.password = ["Required"];
        if (Object.keys(fields).length)
          throw new AppError("VALIDATION_FAILED", "Name and password are required to create your account", fields);
      }
      const { count } = await tx.invitation.updateMany({
        where: { id: invitation.id, acceptedAt: null, revokedAt: null },
        data: { acceptedAt: new Date() },
      });
      if (count !== 1) throw new AppError("GONE", "This invitation has already been used");
      const userId = user
        ? user.id
        : (await tx.user.create({ data: { email: invitation.email, name: input.name!, passwordHash }, select: { id: true } })).id;
      await tx.invitation.update({ where: { id: invitation.id }, data: { acceptedById: userId } });
      await tx.membership.create({ data: { teamId: invitation.teamId, userId, role: invitation.role } });
      await audit(tx, {
        actorId: userId,
        action: "invitation.accept",
        targetType: "invitation",
        targetId: invitation.id,
        teamId: invitation.teamId,
        ip,
        metadata: { role: invitation.role, newAccount: !user },
      });
      return {
        teamSlug: invitation.team.slug,
        teamName: invitation.team.name,
        role: invitation.role,
        email: invitation.email,
        newAccount: !user,
      };
    });
  } catch (err) {
    // Another invitation for the same email or team, accepted at the same moment, got there first.
    if (isUniqueViolation(err))
      throw new AppError("CONFLICT", "This account or membership was just created by another request; sign in and open the link again");
    throw err;
  }
}
