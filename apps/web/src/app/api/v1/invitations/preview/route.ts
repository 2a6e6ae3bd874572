import { z } from "zod";
import { inviteTokenSchema } from "@wyolo/contracts";
import { json, publicRoute, readJson } from "@/server/http";
import { previewInvitation } from "@/server/invitations/preview-invitation";

// POST so the token stays out of URLs and access logs.
export const POST = publicRoute(async ({ req }) => {
  const { token } = await readJson(req, z.object({ token: inviteTokenSchema }));
  return json({ invitation: await previewInvitation(token) });
});
