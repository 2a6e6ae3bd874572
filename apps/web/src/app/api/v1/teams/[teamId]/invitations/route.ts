import { createInvitationSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { createInvitation } from "@/server/invitations/create-invitation";
import { listInvitations } from "@/server/invitations/list-invitations";

type P = { teamId: string };

export const GET = withAuth<P>(async ({ user, params }) => json({ invitations: await listInvitations(user, params.teamId) }));

export const POST = withAuth<P>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, createInvitationSchema);
  return json({ invitation: await createInvitation(user, params.teamId, input, ip) }, 201);
});
