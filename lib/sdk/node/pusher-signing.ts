/*
 * Pusher-compatible signing (docs/protocol.md section 2), byte for byte what the official
 * Pusher SDKs compute: the one implementation, used by this server to check requests and
 * channel auth (server/channels/signing.ts) and by the server SDK to make them
 * (./realtime-server.ts). Node only (node:crypto).
 *
 * Rules:
 * - Channel auth is `<APP_KEY>:<hex HMAC-SHA256(APP_SECRET, S)>` with S = `socket_id:channel`
 *   or, for presence, `socket_id:channel:channel_data`, channel_data signed as the exact string.
 * - REST requests carry auth_key, auth_timestamp (seconds), auth_version=1.0, body_md5 (hex MD5
 *   of the exact body, when there is one), the call's own parameters, and auth_signature = hex
 *   HMAC-SHA256(APP_SECRET, `METHOD\n<path>\n<k=v&...>`): every other parameter sorted by key,
 *   values as they are (not URL-escaped).
 */
import { createHash, createHmac } from "node:crypto";

export const AUTH_VERSION = "1.0";
/** Set by the signing itself; never a request's own parameter. */
export const RESERVED_QUERY_KEYS: ReadonlySet<string> = new Set([
  "auth_key",
  "auth_timestamp",
  "auth_version",
  "auth_signature",
  "body_md5",
]);

/** The public key and the secret of an app (APP_KEY, APP_SECRET). */
export interface SigningCredentials {
  key: string;
  secret: string;
}

export interface SignRequestInput {
  method: string;
  /** The full path, e.g. /apps/123/events */
  path: string;
  params?: Record<string, string>;
  /** The exact body text sent. */
  body?: string;
  /** Seconds since the epoch. */
  timestamp: number;
}

export function signHmacSha256Hex(secret: string, text: string): string {
  return createHmac("sha256", secret).update(text, "utf8").digest("hex");
}

export function md5Hex(body: string | Uint8Array): string {
  const hash = createHash("md5");
  if (typeof body === "string") hash.update(body, "utf8");
  else hash.update(body);
  return hash.digest("hex");
}

/** `<key>:<signature>` for a socket on a channel; `channelData` is signed as given. */
export function signChannelAuth(
  credentials: SigningCredentials,
  socketId: string,
  channel: string,
  channelData?: string,
): string {
  const text = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${credentials.key}:${signHmacSha256Hex(credentials.secret, text)}`;
}

/** Pusher's order: keys sorted by code unit, `key=value`, values not escaped; auth_signature left out. */
export function joinSortedParams(params: Iterable<readonly [string, string]>): string {
  return [...params]
    .filter(([key]) => key !== "auth_signature")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

/** `METHOD\n<path>\n<k=v&...>`, the text auth_signature is the HMAC of. */
export function buildStringToSign(method: string, path: string, params: Iterable<readonly [string, string]>): string {
  return `${method.toUpperCase()}\n${path}\n${joinSortedParams(params)}`;
}

/** Every query parameter of a signed request, auth_signature last. */
export function signRequestParams(credentials: SigningCredentials, request: SignRequestInput): Record<string, string> {
  const params: Record<string, string> = {
    auth_key: credentials.key,
    auth_timestamp: String(Math.floor(request.timestamp)),
    auth_version: AUTH_VERSION,
  };
  if (request.body) params.body_md5 = md5Hex(request.body);
  for (const [key, value] of Object.entries(request.params ?? {})) {
    if (RESERVED_QUERY_KEYS.has(key)) throw new TypeError(`${key} is set by the signing and cannot be a parameter`);
    params[key] = value;
  }
  const text = buildStringToSign(request.method, request.path, Object.entries(params));
  return { ...params, auth_signature: signHmacSha256Hex(credentials.secret, text) };
}

/** The query string exactly as the official `pusher` package's createSignedQueryString builds it. */
export function createSignedQueryString(credentials: SigningCredentials, request: SignRequestInput): string {
  const { auth_signature: signature, ...params } = signRequestParams(credentials, request);
  return `${joinSortedParams(Object.entries(params))}&auth_signature=${signature}`;
}
