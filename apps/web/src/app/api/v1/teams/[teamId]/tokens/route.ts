import { createTokenSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { createServiceToken } from "@/server/tokens/create-token";
import { listTeamTokens } from "@/server/tokens/list-tokens";

type P = { teamId: string };

export const GET = withAuth<P>(async ({ user, params }) => json({ tokens: await listTeamTokens(user, params.teamId) }), {
  sessionOnly: true,
});

/** A service token of the team (ADMIN); the token itself is in this answer only. */
export const POST = withAuth<P>(
  async ({ req, user, params, ip }) => {
    const input = await readJson(req, createTokenSchema);
    return json(await createServiceToken(user, params.teamId, input, ip), 201);
  },
  { sessionOnly: true },
);
