import "server-only";
import { db } from "../db";
import { requirePlatformAdmin } from "../access";
import type { SessionUser } from "../auth/session";

export async function listUsers(user: SessionUser) {
  requirePlatformAdmin(user);
  return db.user.findMany({
    // Service accounts belong to team tokens and show on the team's Tokens page.
    where: { serviceAccount: false },
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
