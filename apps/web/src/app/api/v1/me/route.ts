import { json, withAuth } from "@/server/http";
import { listTeams } from "@/server/teams/list-teams";

export const GET = withAuth(async ({ user }) => json({ user, teams: await listTeams(user) }));
