import { noContent, withAuth } from "@/server/http";
import { revokeInvitation } from "@/server/invitations/revoke-invitation";

export const DELETE = withAuth<{ teamId: string; invitationId: string }>(async ({ user, params, ip }) => {
  await revokeInvitation(user, params.teamId, params.invitationId, ip);
  return noContent();
});
