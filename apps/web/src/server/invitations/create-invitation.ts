import "server-only";
import { canAssignRole, type createInvitationSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { env } from "@/env";
import { db } from "../db";
import { audit } from "../audit";
import { teamAccess } from "../access";
import { AppError, forbidden } from "../errors";
import type { SessionUser } from "../auth/session";
import { hashInviteToken, newInviteToken } from "./token";

/**
 * Creates a single-use invitation and returns its link. The link is shown once (mail may not be
 * configured, so the inviter copies it); a newer invitation for the same email replaces older ones.
 */
export async function createInvitation(user: SessionUser, teamId: string, input: z.infer<typeof createInvitationSchema>, ip: string) {
  const access = await teamAccess(user, { id: teamId }, "member.invite");
  if (!canAssignRole(access.role, null, input.role)) throw forbidden("Only an owner can invite another owner");
  const token = newInviteToken();
  const expiresAt = new Date(Date.now() + env.INVITE_TTL_HOURS * 3600_000);
  const invitation = await db.$transaction(async (tx) => {
    const member = await tx.membership.findFirst({ where: { teamId: access.team.id, user: { email: input.email } }, select: { id: true } });
    if (member) throw new AppError("CONFLICT", "That person is already a member", { email: ["Already a member of this team"] });
    await tx.invitation.updateMany({
      where: { teamId: access.team.id, email: input.email, acceptedAt: null, revokedAt: null },
      data: { revokedAt: new Date() },
    });
    const created = await tx.invitation.create({
      data: {
        teamId: access.team.id,
        email: input.email,
        role: input.role,
        tokenHash: hashInviteToken(token),
        expiresAt,
        invitedById: user.id,
      },
      select: { id: true, email: true, role: true, expiresAt: true, createdAt: true },
    });
    await audit(tx, {
      actorId: user.id,
      action: "member.invite",
      targetType: "invitation",
      targetId: created.id,
      teamId: access.team.id,
      ip,
      metadata: { email: input.email, role: input.role },
    });
    return created;
  });
  return { ...invitation, url: `${env.NEXTAUTH_URL.replace(/\/$/, "")}/invite/${token}` };
}
