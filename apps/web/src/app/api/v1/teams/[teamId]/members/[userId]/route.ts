import { changeRoleSchema } from "@wyolo/contracts";
import { json, noContent, readJson, withAuth } from "@/server/http";
import { changeRole } from "@/server/members/change-role";
import { removeMember } from "@/server/members/remove-member";

type P = { teamId: string; userId: string };

export const PATCH = withAuth<P>(async ({ req, user, params, ip }) => {
  const { role } = await readJson(req, changeRoleSchema);
  return json({ member: await changeRole(user, params.teamId, params.userId, role, ip) });
});

/** Removes a member; with one's own id, leaves the team. */
export const DELETE = withAuth<P>(async ({ user, params, ip }) => {
  await removeMember(user, params.teamId, params.userId, ip);
  return noContent();
});
