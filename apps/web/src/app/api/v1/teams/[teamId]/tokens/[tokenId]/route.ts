import { json, withAuth } from "@/server/http";
import { revokeTeamToken } from "@/server/tokens/revoke-token";

/** Revokes the service token and removes its account from the team. */
export const DELETE = withAuth<{ teamId: string; tokenId: string }>(
  async ({ user, params, ip }) => json({ token: await revokeTeamToken(user, params.teamId, params.tokenId, ip) }),
  { sessionOnly: true },
);
