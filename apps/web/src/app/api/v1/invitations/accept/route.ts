import { acceptInvitationSchema } from "@wyolo/contracts";
import { json, publicRoute, readJson } from "@/server/http";
import { acceptInvitation } from "@/server/invitations/accept-invitation";

export const POST = publicRoute(
  async ({ req, user, ip }) => {
    const input = await readJson(req, acceptInvitationSchema);
    return json({ membership: await acceptInvitation(user, input, ip) }, 201);
  },
  { sessionOnly: true },
);
