import { createTeamSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { createTeam } from "@/server/teams/create-team";
import { listTeams } from "@/server/teams/list-teams";

export const GET = withAuth(async ({ user }) => json({ teams: await listTeams(user) }));

export const POST = withAuth(
  async ({ req, user, ip }) => {
    const input = await readJson(req, createTeamSchema);
    return json({ team: await createTeam(user, input, ip) }, 201);
  },
  { sessionOnly: true },
);
