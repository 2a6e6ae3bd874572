import "server-only";
import type { updateUserSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { requirePlatformAdmin } from "../access";
import { AppError, notFound } from "../errors";
import type { SessionUser } from "../auth/session";
import { disconnectUserSockets } from "../realtime/emitter";

/** Platform admins disable/enable accounts; disabling ends the user's sessions at once, sockets included. */
export async function updateUser(user: SessionUser, userId: string, input: z.infer<typeof updateUserSchema>, ip: string) {
  requirePlatformAdmin(user);
  if (userId === user.id) throw new AppError("CONFLICT", "You cannot change your own account's admin or disabled flag");
  const updated = await db.$transaction(async (tx) => {
    const target = await tx.user.findUnique({ where: { id: userId }, select: { id: true } });
    if (!target) throw notFound("User not found");
    const updated = await tx.user.update({
      where: { id: userId },
      data: { ...input, ...(input.disabled ? { sessionVersion: { increment: 1 } } : {}) },
      select: { id: true, email: true, name: true, isPlatformAdmin: true, disabled: true },
    });
    await audit(tx, { actorId: user.id, action: "user.update", targetType: "user", targetId: userId, ip, metadata: input });
    return updated;
  });
  // Either flag can narrow what the user may read (disabled, or no longer a platform admin);
  // their sockets reconnect and every room is checked again.
  disconnectUserSockets(userId);
  return updated;
}
