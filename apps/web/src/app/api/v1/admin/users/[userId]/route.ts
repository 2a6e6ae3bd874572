import { updateUserSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { updateUser } from "@/server/users/update-user";

export const PATCH = withAuth<{ userId: string }>(async ({ req, user, params, ip }) => {
  const input = await readJson(req, updateUserSchema);
  return json({ user: await updateUser(user, params.userId, input, ip) });
});
