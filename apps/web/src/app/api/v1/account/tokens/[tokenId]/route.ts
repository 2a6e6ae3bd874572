import { json, withAuth } from "@/server/http";
import { revokePersonalToken } from "@/server/tokens/revoke-token";

/** Revokes the token (it stays listed, as revoked). */
export const DELETE = withAuth<{ tokenId: string }>(
  async ({ user, params, ip }) => json({ token: await revokePersonalToken(user, params.tokenId, ip) }),
  { sessionOnly: true },
);
