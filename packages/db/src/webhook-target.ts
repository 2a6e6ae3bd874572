import { lookup } from "node:dns/promises";
import type { LookupAddress } from "node:dns";
import ipaddr from "ipaddr.js";
import { z } from "zod";

/**
 * The SSRF guard of webhooks: where a delivery may go. A URL's host is resolved and every address
 * it resolves to must be public unicast (not loopback, private, link-local — the cloud metadata
 * address 169.254.169.254 included —, unique-local, CGNAT, multicast, unspecified, reserved, nor
 * such an address inside IPv4-mapped IPv6), unless WEBHOOK_ALLOWED_HOSTS names the host, the
 * address or a CIDR range holding it. The delivery then connects to the address checked here
 * (`pinnedLookup`), so a second DNS answer cannot point it elsewhere.
 */

export type AllowList = { hosts: ReadonlySet<string>; ranges: readonly [ipaddr.IPv4 | ipaddr.IPv6, number][] };
export const EMPTY_ALLOW_LIST: AllowList = { hosts: new Set(), ranges: [] };

/** WEBHOOK_ALLOWED_HOSTS: a comma list of host names, IP addresses and CIDR ranges. */
export function parseAllowList(text: string | undefined): { allow: AllowList } | { problem: string } {
  const hosts = new Set<string>();
  const ranges: [ipaddr.IPv4 | ipaddr.IPv6, number][] = [];
  for (const raw of (text ?? "").split(",")) {
    const entry = raw
      .trim()
      .toLowerCase()
      .replace(/^\[(.*)\]$/, "$1");
    if (!entry) continue;
    if (entry.includes("/")) {
      try {
        ranges.push(ipaddr.parseCIDR(entry));
      } catch {
        return { problem: `"${entry}" is not a CIDR range such as 10.0.0.0/8` };
      }
    } else if (ipaddr.isValid(entry)) {
      const address = ipaddr.parse(entry);
      ranges.push([address, address.kind() === "ipv4" ? 32 : 128]);
    } else if (/^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/.test(entry)) {
      hosts.add(entry);
    } else {
      return { problem: `"${entry}" is neither a host name, an IP address nor a CIDR range` };
    }
  }
  return { allow: { hosts, ranges } };
}

/** WEBHOOK_ALLOWED_HOSTS in an env schema (web and worker). */
export const allowListEnv = z
  .string()
  .optional()
  .transform((v, ctx) => {
    const parsed = parseAllowList(v);
    if ("allow" in parsed) return parsed.allow;
    ctx.addIssue({ code: "custom", message: parsed.problem });
    return z.NEVER;
  });

/** Why an address may not be called, or null when it may (public unicast, or allowed by the list). */
export function refusedAddress(address: string, allow: AllowList): string | null {
  if (!ipaddr.isValid(address)) return "not an IP address";
  let parsed = ipaddr.parse(address);
  for (const [range, bits] of allow.ranges) if (parsed.kind() === range.kind() && parsed.match(range, bits)) return null;
  if (parsed.kind() === "ipv6" && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
    for (const [range, bits] of allow.ranges) if (range.kind() === "ipv4" && parsed.match(range, bits)) return null;
  }
  const range = parsed.range();
  if (range !== "unicast") return `${range} address`;
  // IPv6 "unicast" also covers the deprecated IPv4-compatible ::/96 (::127.0.0.1) and other
  // unassigned space: only global unicast (2000::/3) goes out.
  if (parsed.kind() === "ipv6" && !parsed.match(ipaddr.parseCIDR("2000::/3"))) return "non-global IPv6 address";
  return null;
}

export type Target = {
  url: URL;
  /** The host name as written (brackets of an IPv6 literal removed). */
  host: string;
  /** The addresses checked; a delivery connects to the first. */
  addresses: LookupAddress[];
};
export type TargetCheck = { ok: true; target: Target } | { ok: false; reason: string; unresolved?: boolean };

type Resolve = (host: string) => Promise<LookupAddress[]>;
const systemResolve: Resolve = (host) => lookup(host, { all: true, verbatim: true });

/** Parses, resolves and checks a webhook URL. `unresolved`: the name did not resolve (DNS error, no address). */
export async function checkTarget(rawUrl: string, allow: AllowList, resolve: Resolve = systemResolve): Promise<TargetCheck> {
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    return { ok: false, reason: "not a valid URL" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return { ok: false, reason: "only http and https URLs can be called" };
  if (url.username || url.password) return { ok: false, reason: "credentials in the URL are not supported" };
  const host = url.hostname.replace(/^\[(.*)\]$/, "$1").toLowerCase();
  let addresses: LookupAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === "ipv4" ? 4 : 6 }];
  } else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      return { ok: false, reason: `${host} does not resolve (${(err as NodeJS.ErrnoException).code ?? "DNS error"})`, unresolved: true };
    }
    if (!addresses.length) return { ok: false, reason: `${host} does not resolve`, unresolved: true };
  }
  if (!allow.hosts.has(host))
    for (const { address } of addresses) {
      const why = refusedAddress(address, allow);
      if (why)
        return {
          ok: false,
          reason: `${host === address ? address : `${host} resolves to ${address}`}, a ${why}: not allowed for webhooks (WEBHOOK_ALLOWED_HOSTS can allow it)`,
        };
    }
  return { ok: true, target: { url, host, addresses } };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A `lookup` for http(s).request that answers with the address checked, never asking DNS again. */
export function pinnedLookup(pinned: LookupAddress) {
  return (_host: string, options: { all?: boolean }, callback: LookupCallback) => {
    if (options?.all) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}
