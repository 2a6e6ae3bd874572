import { transferOwnershipSchema } from "@wyolo/contracts";
import { noContent, readJson, withAuth } from "@/server/http";
import { transferOwnership } from "@/server/teams/transfer-ownership";

export const POST = withAuth<{ teamId: string }>(async ({ req, user, params, ip }) => {
  const { userId } = await readJson(req, transferOwnershipSchema);
  await transferOwnership(user, params.teamId, userId, ip);
  return noContent();
});
