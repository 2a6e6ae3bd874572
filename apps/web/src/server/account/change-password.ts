import "server-only";
import type { changePasswordSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { AppError } from "../errors";
import { hashPassword, verifyPassword } from "../auth/password";
import { beginPasswordCheck } from "../auth/rate-limit";
import type { SessionUser } from "../auth/session";
import { disconnectUserSockets } from "../realtime/emitter";

/** Changes the password and bumps sessionVersion: every other session of the user ends, sockets included. */
export async function changePassword(user: SessionUser, input: z.infer<typeof changePasswordSchema>, ip: string) {
  // Counted before the check, like sign-ins: a stolen session cannot guess the password in parallel.
  const check = await beginPasswordCheck(user.id);
  if (!check.allowed) throw new AppError("RATE_LIMITED", "Too many wrong current passwords. Wait a few minutes and try again.");
  const current = await db.user.findUnique({ where: { id: user.id }, select: { passwordHash: true } });
  if (!(await verifyPassword(current?.passwordHash, input.currentPassword))) {
    throw new AppError("VALIDATION_FAILED", "The current password is wrong", { currentPassword: ["Wrong password"] });
  }
  await check.succeeded();
  const passwordHash = await hashPassword(input.newPassword);
  const updated = await db.$transaction(async (tx) => {
    const row = await tx.user.update({
      where: { id: user.id },
      data: { passwordHash, sessionVersion: { increment: 1 } },
      select: { sessionVersion: true },
    });
    await audit(tx, { actorId: user.id, action: "user.password_change", targetType: "user", targetId: user.id, ip });
    return row;
  });
  disconnectUserSockets(user.id);
  return updated;
}
