import { changePasswordSchema } from "@wyolo/contracts";
import { noContent, readJson, withAuth } from "@/server/http";
import { changePassword } from "@/server/account/change-password";

export const POST = withAuth(
  async ({ req, user, ip }) => {
    const input = await readJson(req, changePasswordSchema);
    await changePassword(user, input, ip);
    return noContent();
  },
  { sessionOnly: true },
);
