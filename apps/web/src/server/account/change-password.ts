import "server-only";
import type { changePasswordSchema } from "@wyolo/contracts";
import type { z } from "zod";
import { db } from "../db";
import { audit } from "../audit";
import { AppError } from "../errors";
import { hashPassword, verifyPassword } from "../auth/password";
import type { SessionUser } from "../auth/session";

/** Changes the password and bumps sessionVersion: every other session of the user ends. */
export async function changePassword(user: SessionUser, input: z.infer<typeof changePasswordSchema>, ip: string) {
  const current = await db.user.findUnique({ where: { id: user.id }, select: { passwordHash: true } });
  if (!(await verifyPassword(current?.passwordHash, input.currentPassword))) {
    throw new AppError("VALIDATION_FAILED", "The current password is wrong", { currentPassword: ["Wrong password"] });
  }
  const passwordHash = await hashPassword(input.newPassword);
  return db.$transaction(async (tx) => {
    const updated = await tx.user.update({ where: { id: user.id }, data: { passwordHash, sessionVersion: { increment: 1 } }, select: { sessionVersion: true } });
    await audit(tx, { actorId: user.id, action: "user.password_change", targetType: "user", targetId: user.id, ip });
    return updated;
  });
}
