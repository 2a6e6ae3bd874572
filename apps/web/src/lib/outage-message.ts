// Shared by the server (pages.ts stamps the digest) and the error pages (which read it): Next.js
// hands a client error page only a server error's digest, never its message or stack.

export const UNAVAILABLE_DIGEST_PREFIX = "WYOLO_UNAVAILABLE:";
export const RETRY_SECONDS = 5;

const SERVICE_NAMES: Record<string, string> = { postgres: "its database (Postgres)", redis: "Redis" };

/** "Wyolo can't reach its database (Postgres) — retrying" for an outage digest; null for any other error. */
export function outageMessage(digest: string | undefined): string | null {
  if (!digest?.startsWith(UNAVAILABLE_DIGEST_PREFIX)) return null;
  const name = SERVICE_NAMES[digest.slice(UNAVAILABLE_DIGEST_PREFIX.length)];
  return name ? `Wyolo can't reach ${name} — retrying` : null;
}
