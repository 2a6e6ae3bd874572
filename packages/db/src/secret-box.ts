import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { z } from "zod";

/**
 * Secrets at rest (webhook URLs and signing secrets): AES-256-GCM under SECRETS_KEY, 32 bytes
 * given as base64 or hex. A sealed value is `v1.<iv>.<tag>.<ciphertext>` (base64url), so a later
 * key or algorithm can sit beside it.
 */

export type SecretsKey = Buffer & { readonly __secretsKey: true };

/** The key from its env text, or a message saying what is wrong (never the value). */
export function parseSecretsKey(text: string): { key: SecretsKey } | { problem: string } {
  const value = text.trim();
  const bytes = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
  if (bytes.length !== 32) return { problem: "must be 32 random bytes, base64 or hex (e.g. `openssl rand -base64 32`)" };
  return { key: bytes as SecretsKey };
}

/** SECRETS_KEY in an env schema (web and worker): checked at boot, kept as text (parsed where used). Unset = no webhooks. */
export const secretsKeyEnv = z
  .string()
  .trim()
  .optional()
  .transform((v) => v || undefined)
  .superRefine((v, ctx) => {
    const parsed = v === undefined ? null : parseSecretsKey(v);
    if (parsed && "problem" in parsed) ctx.addIssue({ code: "custom", message: parsed.problem });
  });

export function sealSecret(key: SecretsKey, plaintext: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return ["v1", iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === "string" ? p : p.toString("base64url"))).join(".");
}

/** Throws when the value was sealed under another key or altered. */
export function openSecret(key: SecretsKey, sealed: string): string {
  const [version, iv, tag, ciphertext] = sealed.split(".");
  if (version !== "v1" || iv === undefined || tag === undefined || ciphertext === undefined)
    throw new Error("not a sealed secret (v1.<iv>.<tag>.<data>)");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, "base64url")), decipher.final()]).toString("utf8");
}
