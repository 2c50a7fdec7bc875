import { BlockList, isIP, isIPv4 } from "node:net";

/**
 * The client's IP behind reverse proxies (HTTP routes and Socket.IO handshakes use this one
 * function). Rules:
 * - `X-Forwarded-For` is read only when the socket's peer is a trusted proxy (TRUSTED_PROXIES);
 *   otherwise the peer is the client, whatever the header says.
 * - The header is walked from the right: each proxy appends the address it saw, so the
 *   rightmost entries are written by our own proxies and the leftmost by the client. Entries
 *   that are themselves trusted proxies are skipped; the first one that is not is the client.
 *   Anything left of it was written by the client and is never read.
 * - An entry that is not an IP address ends the walk: the last trusted hop is the answer (a
 *   trusted proxy wrote nonsense, so nothing further left can be vouched for).
 * - IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) are the IPv4 address, in rules and answers.
 */

/** At most this many X-Forwarded-For entries are looked at, from the right. */
const MAX_FORWARDED_HOPS = 32;

/** The addresses whose X-Forwarded-For is believed; built once from configuration. */
export interface ProxyTrust {
  /** The configured entries as given (IPs and CIDRs), for logs and other modules. */
  readonly entries: readonly string[];
  isTrusted(ip: string): boolean;
}

/** Loopback only: what `TRUST_PROXY=true` means (a proxy on the same host). */
export const LOOPBACK_PROXIES: readonly string[] = ["127.0.0.0/8", "::1/128"];

export class ProxyListError extends Error {
  override name = "ProxyListError";
}

/**
 * `["127.0.0.1", "10.0.0.0/8", "fd00::/8"]` -> a matcher. Throws ProxyListError naming the
 * first entry that is neither an IP address nor a CIDR range.
 */
export function createProxyTrust(entries: readonly string[]): ProxyTrust {
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefixText, extra] = entry.split("/");
    const ip = normalizeIp(address);
    const family = isIP(ip);
    if (family === 0 || extra !== undefined) throw new ProxyListError(`not an IP address or CIDR range: ${entry}`);
    const type = family === 4 ? "ipv4" : "ipv6";
    if (prefixText === undefined) {
      list.addAddress(ip, type);
      continue;
    }
    const prefix = /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
    if (!(prefix >= 0 && prefix <= (family === 4 ? 32 : 128))) {
      throw new ProxyListError(`bad prefix length in ${entry}`);
    }
    list.addSubnet(ip, prefix, type);
  }
  const frozen = Object.freeze([...entries]);
  return {
    entries: frozen,
    isTrusted(ip) {
      if (frozen.length === 0) return false;
      const family = isIP(ip);
      return family !== 0 && list.check(ip, family === 4 ? "ipv4" : "ipv6");
    },
  };
}

/** Parses the comma-separated TRUSTED_PROXIES value (blank entries ignored). */
export function parseProxyList(text: string): string[] {
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter(Boolean);
}

/**
 * The client's IP for a request that reached us from `peer` (the socket's remote address)
 * with these `X-Forwarded-For` values (Node joins repeated headers with ", ").
 */
export function resolveClientIp(
  peer: string | undefined,
  forwardedFor: string | readonly string[] | undefined,
  trust: ProxyTrust,
): string {
  let client = normalizeIp(peer ?? "");
  if (!client) return "unknown";
  if (forwardedFor === undefined || !trust.isTrusted(client)) return client;
  const header = typeof forwardedFor === "string" ? forwardedFor : forwardedFor.join(",");
  const hops = header.split(",");
  const stop = Math.max(0, hops.length - MAX_FORWARDED_HOPS);
  for (let i = hops.length - 1; i >= stop; i--) {
    const hop = parseForwardedHop(hops[i] ?? "");
    if (!hop) return client;
    client = hop;
    if (!trust.isTrusted(hop)) return hop;
  }
  return client;
}

/** Whether the socket's peer is one of the trusted proxies (whose headers, X-Request-Id too, are believed). */
export function isFromTrustedProxy(peer: string | undefined, trust: ProxyTrust): boolean {
  const ip = normalizeIp(peer ?? "");
  return ip !== "" && trust.isTrusted(ip);
}

/** One X-Forwarded-For entry -> an IP, or undefined. Accepts `1.2.3.4:80` and `[::1]:80` forms. */
function parseForwardedHop(raw: string): string | undefined {
  let text = raw.trim();
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end === -1) return undefined;
    text = text.slice(1, end);
  } else if (/^[\d.]+:\d+$/.test(text)) {
    text = text.slice(0, text.indexOf(":"));
  }
  const ip = normalizeIp(text);
  return isIP(ip) === 0 ? undefined : ip;
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`; a zone id (`fe80::1%eth0`) is dropped; anything else as is. */
function normalizeIp(ip: string): string {
  const zone = ip.indexOf("%");
  const bare = zone === -1 ? ip : ip.slice(0, zone);
  if (bare.length > 7 && bare.slice(0, 7).toLowerCase() === "::ffff:" && isIPv4(bare.slice(7))) return bare.slice(7);
  return bare;
}
