import "server-only";
import { createHash, randomBytes } from "node:crypto";
import { TOKEN_DISPLAY_CHARS, TOKEN_PREFIX } from "@wyolo/contracts";

/** `wyolo_` + 43 base64url characters (32 random bytes): unguessable, so a fast hash is enough to store it. */
const TOKEN_SHAPE = /^wyolo_[A-Za-z0-9_-]{43,128}$/;

export function isTokenShaped(text: string): boolean {
  return TOKEN_SHAPE.test(text);
}

/** The only form a token is stored in (hex SHA-256), and what a Bearer header is looked up by. */
export function hashApiToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

/** The part shown to recognise a token in lists: never enough to use it. */
export function tokenPrefix(token: string): string {
  return token.slice(0, TOKEN_PREFIX.length + TOKEN_DISPLAY_CHARS);
}

export function newApiToken(): { token: string; prefix: string; tokenHash: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  return { token, prefix: tokenPrefix(token), tokenHash: hashApiToken(token) };
}

/**
 * The credential of an `Authorization: Bearer …` header; "" for a Bearer header without one;
 * null for no header or another scheme (a proxy's Basic auth is not ours to judge).
 */
export function bearerToken(header: string | null | undefined): string | null {
  const match = /^\s*bearer(?:\s+(.*))?$/i.exec(header ?? "");
  return match ? (match[1] ?? "").trim() : null;
}
