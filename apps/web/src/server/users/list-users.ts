import "server-only";
import { db } from "../db";
import { requirePlatformAdmin } from "../access";
import type { SessionUser } from "../auth/session";

export async function listUsers(user: SessionUser) {
  requirePlatformAdmin(user);
  return db.user.findMany({
    select: {
      id: true,
      email: true,
      name: true,
      isPlatformAdmin: true,
      disabled: true,
      createdAt: true,
      _count: { select: { memberships: true } },
    },
    orderBy: { email: "asc" },
  });
}
