import "server-only";
import { env } from "@/env";

/**
 * The client address. Our server (server.ts) stamps `x-wyolo-client-ip` from the socket after
 * dropping any incoming copy; behind a trusted proxy (TRUST_PROXY=true) the first
 * X-Forwarded-For entry wins.
 */
export function clientIp(headers: Headers | Record<string, string | string[] | undefined>): string {
  const get = (name: string): string | undefined => {
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    const v = headers[name];
    return Array.isArray(v) ? v[0] : v;
  };
  if (env.TRUST_PROXY) {
    const forwarded = get("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return (get("x-wyolo-client-ip") ?? "unknown").slice(0, 64);
}
