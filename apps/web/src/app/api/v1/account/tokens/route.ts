import { createTokenSchema } from "@wyolo/contracts";
import { json, readJson, withAuth } from "@/server/http";
import { createPersonalToken } from "@/server/tokens/create-token";
import { listPersonalTokens } from "@/server/tokens/list-tokens";

// Tokens are managed from a browser session: a token never lists or mints tokens.
export const GET = withAuth(async ({ user }) => json({ tokens: await listPersonalTokens(user) }), { sessionOnly: true });

/** The token itself is in this answer only. */
export const POST = withAuth(
  async ({ req, user, ip }) => {
    const input = await readJson(req, createTokenSchema);
    return json(await createPersonalToken(user, input, ip), 201);
  },
  { sessionOnly: true },
);
