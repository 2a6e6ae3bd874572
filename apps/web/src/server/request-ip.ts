import "server-only";
import { isIPv4, isIPv6 } from "node:net";
import { env } from "@/env";

/**
 * The client address. Our server (server.ts) stamps `x-wyolo-client-ip` from the socket after
 * dropping any incoming copy. Behind a trusted proxy (TRUST_PROXY=true) the RIGHTMOST
 * X-Forwarded-For entry wins: exactly one proxy is assumed, and it appends the address it saw
 * (nginx's $proxy_add_x_forwarded_for); everything left of it was sent by the client.
 */
export function clientIp(headers: Headers | Record<string, string | string[] | undefined>): string {
  const get = (name: string): string | undefined => {
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    const v = headers[name];
    return Array.isArray(v) ? v.join(",") : v;
  };
  if (env.TRUST_PROXY) {
    const forwarded = get("x-forwarded-for")?.split(",").at(-1)?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return (get("x-wyolo-client-ip") ?? "unknown").slice(0, 64);
}

/**
 * The address as rate limits count it: one host usually owns a whole IPv6 /64, so an IPv6
 * address counts as its /64 ("2001:db8:1:2::"); an IPv4-mapped one as its IPv4. The audit log
 * keeps the full address.
 */
export function rateLimitKey(ip: string): string {
  const bare = ip.replace(/%.*$/, "");
  if (!isIPv6(bare)) return ip;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  if (mapped && isIPv4(mapped[1]!)) return mapped[1]!;
  const [head = "", tail] = bare.toLowerCase().split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // A dotted IPv4 tail fills two groups; only the first four groups matter here.
  const filled = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill("0"), ...right];
  return `${filled
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ""))
    .join(":")}::`;
}
