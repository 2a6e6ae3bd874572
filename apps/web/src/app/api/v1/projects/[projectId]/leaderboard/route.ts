import { leaderboardQuerySchema } from "@wyolo/contracts";
import { json, readQuery, withAuth } from "@/server/http";
import { getLeaderboard } from "@/server/compare/get-leaderboard";

export const GET = withAuth<{ projectId: string }>(async ({ req, user, params }) =>
  json(await getLeaderboard(user, params.projectId, readQuery(req, leaderboardQuerySchema))),
);
