import "server-only";
import { randomBytes } from "node:crypto";
import { openSecret, parseSecretsKey, sealSecret, type SecretsKey } from "@wyolo/db/secret-box";
import { env } from "@/env";
import { AppError } from "../errors";

/** SECRETS_KEY, or a 503 that says what to set: without it webhooks cannot be stored. */
export function secretsKey(): SecretsKey {
  const parsed = env.SECRETS_KEY ? parseSecretsKey(env.SECRETS_KEY) : null;
  if (!parsed || "problem" in parsed)
    throw new AppError(
      "SERVICE_UNAVAILABLE",
      "Webhooks need SECRETS_KEY (32 random bytes, base64 or hex; the same on the web app and the workers): ask your administrator to set it",
    );
  return parsed.key;
}

export const seal = (plaintext: string) => sealSecret(secretsKey(), plaintext);
export const unseal = (sealed: string) => openSecret(secretsKey(), sealed);

/** A signing secret: shown once at create and at rotate, stored sealed. */
export const newSigningSecret = () => `whsec_${randomBytes(32).toString("base64url")}`;

/** What pages show of a URL: its origin, the rest elided (a Slack URL's path is itself a secret). */
export function displayUrl(url: string): string {
  const u = new URL(url);
  return u.pathname === "/" && !u.search ? u.origin : `${u.origin}/…`;
}
