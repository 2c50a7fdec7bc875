/**
 * EIP-4361 (Sign-In with Ethereum) messages: formatting and strict parsing.
 *
 * Rules:
 * - The parser accepts only text that matches the EIP-4361 ABNF exactly: LF line ends (a CR anywhere is
 *   refused), fields in the ABNF order, no trailing newline, no extra lines, RFC 3986 URIs, RFC 3339 times.
 * - Input is bounded (MAX_SIWE_MESSAGE_LENGTH) before any work, so a hostile body costs little.
 * - The address may be all lower or all upper case; mixed case must be a valid EIP-55 checksum, because a
 *   mixed-case address with a wrong checksum is almost always a typo or a tampered message.
 * - Stricter than the ABNF where the looser form cannot round-trip or cannot be compared safely: the chain
 *   ID must be canonical decimal (no leading zeros, at most 2^53 - 1), the domain needs a non-empty host,
 *   the address prefix is "0x" (not "0X"), and a leap second (":60") is refused because JavaScript's Date
 *   cannot represent it and every later check compares instants.
 * - formatSiweMessage never produces text that this parser would read differently: it throws instead.
 *
 * Isomorphic: runs in the browser widget, the wallet and the server.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";

export interface SiweMessage {
  domain: string;
  address: string;
  statement?: string;
  uri: string;
  version: "1";
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime?: string;
  notBefore?: string;
  requestId?: string;
  resources?: string[];
  scheme?: string;
}

export type ParseSiweResult = { ok: true; message: SiweMessage } | { ok: false; error: string };

export const MAX_SIWE_MESSAGE_LENGTH = 8192;

const HEADER_SUFFIX = " wants you to sign in with your Ethereum account:";

// RFC 3986 character classes, as regex fragments.
const PCT = "%[0-9A-Fa-f]{2}";
const UNRESERVED = "A-Za-z0-9\\-._~";
const SUB_DELIMS = "!$&'()*+,;=";
const PCHAR = `(?:[${UNRESERVED}${SUB_DELIMS}:@]|${PCT})`;
const QUERY_OR_FRAGMENT = `(?:${PCHAR}|[/?])*`;
const PATH_ABEMPTY = `(?:/${PCHAR}*)*`;
const PATH_NO_AUTHORITY = `(?:/(?:${PCHAR}+${PATH_ABEMPTY})?|${PCHAR}+${PATH_ABEMPTY})?`;

const SCHEME_RE = /^[A-Za-z][A-Za-z0-9+\-.]*$/;
// scheme ":" then either "//" authority path-abempty, or a path without authority; query and fragment after.
const URI_RE = new RegExp(
  `^([A-Za-z][A-Za-z0-9+\\-.]*):(?://([^/?#]*)${PATH_ABEMPTY}|${PATH_NO_AUTHORITY})(?:\\?${QUERY_OR_FRAGMENT})?(?:#${QUERY_OR_FRAGMENT})?$`,
);
const USERINFO_RE = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}:]|${PCT})*$`);
const REG_NAME_RE = new RegExp(`^(?:[${UNRESERVED}${SUB_DELIMS}]|${PCT})*$`);
const IPV_FUTURE_RE = new RegExp(`^v[0-9A-Fa-f]+\\.[${UNRESERVED}${SUB_DELIMS}:]+$`);
const PORT_RE = /^[0-9]*$/;
const H16_RE = /^[0-9A-Fa-f]{1,4}$/;
const DEC_OCTET_RE = /^(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9][0-9]|[0-9])$/;
const REQUEST_ID_RE = new RegExp(`^${PCHAR}*$`);
// statement = *( reserved / unreserved / " " ): printable ASCII without " % < > \ ^ ` { | }.
const STATEMENT_RE = new RegExp(`^[${UNRESERVED}${SUB_DELIMS}:/?#\\[\\]@ ]*$`);
const ADDRESS_RE = /^0x[0-9a-fA-F]{40}$/;
const NONCE_RE = /^[A-Za-z0-9]{8,}$/;
const CHAIN_ID_RE = /^(?:0|[1-9][0-9]{0,15})$/;
const RFC3339_RE =
  /^([0-9]{4})-([0-9]{2})-([0-9]{2})[Tt]([0-9]{2}):([0-9]{2}):([0-9]{2})(?:\.([0-9]+))?(?:([Zz])|([+-])([0-9]{2}):([0-9]{2}))$/;

function isIpv4(text: string): boolean {
  const parts = text.split(".");
  return parts.length === 4 && parts.every((part) => DEC_OCTET_RE.test(part));
}

function isIpv6(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groupsOf = (half: string): string[] | null => (half === "" ? [] : half.split(":"));
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  if (!head || !tail) return false;
  const all = [...head, ...tail];
  let count = 0;
  for (let i = 0; i < all.length; i++) {
    const group = all[i] ?? "";
    // An embedded IPv4 address may only close the address (ls32).
    if (i === all.length - 1 && group.includes(".")) {
      if (!isIpv4(group)) return false;
      count += 2;
    } else if (H16_RE.test(group)) {
      count += 1;
    } else {
      return false;
    }
  }
  // "::" stands for at least one group of zeros.
  return halves.length === 2 ? count <= 7 : count === 8;
}

/** RFC 3986 authority: [ userinfo "@" ] host [ ":" port ]. */
function isAuthority(text: string, requireHost: boolean): boolean {
  const at = text.indexOf("@");
  let hostPort = text;
  if (at !== -1) {
    if (!USERINFO_RE.test(text.slice(0, at))) return false;
    hostPort = text.slice(at + 1);
  }
  let host: string;
  let rest: string;
  if (hostPort.startsWith("[")) {
    const close = hostPort.indexOf("]");
    if (close === -1) return false;
    const literal = hostPort.slice(1, close);
    if (!isIpv6(literal) && !IPV_FUTURE_RE.test(literal)) return false;
    host = hostPort.slice(0, close + 1);
    rest = hostPort.slice(close + 1);
  } else {
    // A reg-name cannot hold ":", so the first one starts the port.
    const colon = hostPort.indexOf(":");
    host = colon === -1 ? hostPort : hostPort.slice(0, colon);
    rest = colon === -1 ? "" : hostPort.slice(colon);
    if (!REG_NAME_RE.test(host)) return false;
  }
  if (requireHost && host === "") return false;
  if (rest === "") return true;
  return rest.startsWith(":") && PORT_RE.test(rest.slice(1));
}

/** True when `text` is an absolute RFC 3986 URI. */
export function isValidUri(text: string): boolean {
  const match = URI_RE.exec(text);
  if (!match) return false;
  const authority = match[2];
  return authority === undefined || isAuthority(authority, false);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Milliseconds since the epoch of an RFC 3339 date-time, or null when it is not one. Computed here rather
 * than with Date.parse, whose accepted formats are implementation-defined.
 */
export function parseRfc3339(text: string): number | null {
  if (text.length > 64) return null;
  const m = RFC3339_RE.exec(text);
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12) return null;
  const maxDay = month === 2 && isLeapYear(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day < 1 || day > maxDay) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offsetHour = Number(m[10]);
    const offsetMinute = Number(m[11]);
    if (offsetHour > 23 || offsetMinute > 59) return null;
    offsetMinutes = (offsetHour * 60 + offsetMinute) * (m[9] === "-" ? -1 : 1);
  }
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  let utc: number;
  if (year >= 100) {
    utc = Date.UTC(year, month - 1, day, hour, minute, second, millis);
  } else {
    // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
    const date = new Date(0);
    date.setUTCFullYear(year, month - 1, day);
    date.setUTCHours(hour, minute, second, millis);
    utc = date.getTime();
  }
  return utc - offsetMinutes * 60_000;
}

/** True when `text` is an RFC 3339 date-time (leap seconds refused, see the header). */
export function isValidRfc3339(text: string): boolean {
  return parseRfc3339(text) !== null;
}

/** Keccak-256 of bytes. The server passes its native one; the default is @noble/hashes (browser too). */
export type Keccak256 = (bytes: Uint8Array) => Uint8Array;

/**
 * EIP-55 checksummed form of a 0x-prefixed 40-hex-digit address (any case). Throws on anything else.
 * Digit i is upper case when nibble i of keccak256(lower-case hex digits as ASCII) is 8 or more.
 */
export function toChecksumAddress(address: string, keccak256: Keccak256 = keccak_256): string {
  if (!ADDRESS_RE.test(address)) throw new TypeError("not a 0x-prefixed 20-byte hex address");
  const lower = address.slice(2).toLowerCase();
  const ascii = new Uint8Array(40);
  for (let i = 0; i < 40; i++) ascii[i] = lower.charCodeAt(i);
  const digest = keccak256(ascii);
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const byte = digest[i >> 1] ?? 0;
    const nibble = i % 2 === 0 ? byte >> 4 : byte & 0x0f;
    out += nibble >= 8 ? lower.charAt(i).toUpperCase() : lower.charAt(i);
  }
  return out;
}

function isAcceptedAddress(address: string, keccak256: Keccak256 | undefined): boolean {
  if (!ADDRESS_RE.test(address)) return false;
  const digits = address.slice(2);
  if (digits === digits.toLowerCase() || digits === digits.toUpperCase()) return true;
  return toChecksumAddress(address, keccak256) === address;
}

function fail(error: string): ParseSiweResult {
  return { ok: false, error };
}

/** Strict EIP-4361 parser; see the header for the rules. Never throws. */
export function parseSiweMessage(text: string, options: { keccak256?: Keccak256 } = {}): ParseSiweResult {
  if (typeof text !== "string") return fail("message must be a string");
  if (text.length > MAX_SIWE_MESSAGE_LENGTH) return fail("message too long");
  if (text.includes("\r")) return fail("message must use LF line endings");
  const lines = text.split("\n");
  let i = 0;
  const next = (): string | undefined => lines[i++];

  const header = next() ?? "";
  if (!header.endsWith(HEADER_SUFFIX)) return fail("missing 'wants you to sign in with your Ethereum account:' line");
  let origin = header.slice(0, -HEADER_SUFFIX.length);
  let scheme: string | undefined;
  const schemeEnd = origin.indexOf("://");
  if (schemeEnd !== -1) {
    scheme = origin.slice(0, schemeEnd);
    if (!SCHEME_RE.test(scheme)) return fail("invalid scheme");
    origin = origin.slice(schemeEnd + 3);
  }
  const domain = origin;
  if (!isAuthority(domain, true)) return fail("invalid domain");

  const address = next();
  if (address === undefined || !isAcceptedAddress(address, options.keccak256)) return fail("invalid address");
  if (next() !== "") return fail("expected an empty line after the address");

  // address LF LF [ statement LF ] LF: an empty line here means no statement, unless a second empty line
  // follows, which is the (valid) empty statement.
  let statement: string | undefined;
  const afterAddress = next();
  if (afterAddress === undefined) return fail("message ends after the address");
  if (afterAddress !== "" || lines[i] === "") {
    if (!STATEMENT_RE.test(afterAddress)) return fail("invalid statement");
    statement = afterAddress;
    if (next() !== "") return fail("expected an empty line after the statement");
  }

  const field = (label: string): string | null => {
    const line = lines[i];
    if (line === undefined || !line.startsWith(label)) return null;
    i++;
    return line.slice(label.length);
  };

  const uri = field("URI: ");
  if (uri === null || !isValidUri(uri)) return fail("invalid or missing URI");
  const version = field("Version: ");
  if (version !== "1") return fail("Version must be 1");
  const chainIdText = field("Chain ID: ");
  if (chainIdText === null || !CHAIN_ID_RE.test(chainIdText)) return fail("invalid or missing Chain ID");
  const chainId = Number(chainIdText);
  if (!Number.isSafeInteger(chainId)) return fail("Chain ID too large");
  const nonce = field("Nonce: ");
  if (nonce === null || !NONCE_RE.test(nonce)) return fail("invalid or missing Nonce");
  const issuedAt = field("Issued At: ");
  if (issuedAt === null || !isValidRfc3339(issuedAt)) return fail("invalid or missing Issued At");

  const message: SiweMessage = { domain, address, uri, version: "1", chainId, nonce, issuedAt };
  if (scheme !== undefined) message.scheme = scheme;
  if (statement !== undefined) message.statement = statement;

  const expirationTime = field("Expiration Time: ");
  if (expirationTime !== null) {
    if (!isValidRfc3339(expirationTime)) return fail("invalid Expiration Time");
    message.expirationTime = expirationTime;
  }
  const notBefore = field("Not Before: ");
  if (notBefore !== null) {
    if (!isValidRfc3339(notBefore)) return fail("invalid Not Before");
    message.notBefore = notBefore;
  }
  const requestId = field("Request ID: ");
  if (requestId !== null) {
    if (!REQUEST_ID_RE.test(requestId)) return fail("invalid Request ID");
    message.requestId = requestId;
  }
  if (lines[i] === "Resources:") {
    i++;
    const resources: string[] = [];
    while (i < lines.length) {
      const resource = field("- ");
      if (resource === null || !isValidUri(resource)) return fail("invalid resource");
      resources.push(resource);
    }
    message.resources = resources;
  }
  if (i !== lines.length) return fail("unexpected content after the last field");
  return { ok: true, message };
}

function renderSiweMessage(m: SiweMessage): string {
  const origin = m.scheme === undefined ? m.domain : `${m.scheme}://${m.domain}`;
  const lines = [`${origin}${HEADER_SUFFIX}`, m.address, ""];
  if (m.statement !== undefined) lines.push(m.statement);
  lines.push("");
  lines.push(`URI: ${m.uri}`, `Version: ${m.version}`, `Chain ID: ${m.chainId}`, `Nonce: ${m.nonce}`);
  lines.push(`Issued At: ${m.issuedAt}`);
  if (m.expirationTime !== undefined) lines.push(`Expiration Time: ${m.expirationTime}`);
  if (m.notBefore !== undefined) lines.push(`Not Before: ${m.notBefore}`);
  if (m.requestId !== undefined) lines.push(`Request ID: ${m.requestId}`);
  if (m.resources !== undefined) lines.push("Resources:", ...m.resources.map((resource) => `- ${resource}`));
  return lines.join("\n");
}

const OPTIONAL_KEYS = ["statement", "expirationTime", "notBefore", "requestId", "scheme"] as const;

function isSameMessage(a: SiweMessage, b: SiweMessage): boolean {
  if (
    a.domain !== b.domain ||
    a.address !== b.address ||
    a.uri !== b.uri ||
    a.version !== b.version ||
    a.chainId !== b.chainId ||
    a.nonce !== b.nonce ||
    a.issuedAt !== b.issuedAt
  ) {
    return false;
  }
  if (OPTIONAL_KEYS.some((key) => a[key] !== b[key])) return false;
  const ra = a.resources;
  const rb = b.resources;
  if (ra === undefined || rb === undefined) return ra === rb;
  return ra.length === rb.length && ra.every((resource, index) => resource === rb[index]);
}

/**
 * The exact EIP-4361 text of `m`. Throws a TypeError when a field is invalid (a newline in the statement,
 * a bad nonce...), so a hostile request can never smuggle extra lines into what a wallet signs.
 */
export function formatSiweMessage(m: SiweMessage): string {
  const text = renderSiweMessage(m);
  const parsed = parseSiweMessage(text);
  if (!parsed.ok) throw new TypeError(`invalid SIWE message field: ${parsed.error}`);
  if (!isSameMessage(parsed.message, m)) throw new TypeError("invalid SIWE message: fields do not round-trip");
  return text;
}
