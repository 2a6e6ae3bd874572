import { updateTeamSchema } from "@wyolo/contracts";
import { json, noContent, readJson, withAuth } from "@/server/http";
import { teamAccess } from "@/server/access";
import { updateTeam } from "@/server/teams/update-team";
import { deleteTeam } from "@/server/teams/delete-team";

type P = { teamId: string };

export const GET = withAuth<P>(async ({ user, params }) => {
  const { team, role } = await teamAccess(user, { id: params.teamId }, "team.read");
  return json({ team: { ...team, role } });
});

export const PATCH = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, updateTeamSchema);
  return json({ team: await updateTeam(user, params.teamId, input, ip) });
});

export const DELETE = withAuth<P>(async ({ user, params, ip }) => {
  await deleteTeam(user, params.teamId, ip);
  return noContent();
});
