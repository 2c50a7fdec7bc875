/*
 * Pusher-compatible signing (docs/protocol.md section 2), byte for byte what the official
 * Pusher server SDKs compute.
 *
 * Rules:
 * - Channel auth is `<APP_KEY>:<hex HMAC-SHA256(APP_SECRET, S)>` with S =
 *   `socket_id:channel` or, when channel_data is given (presence), `socket_id:channel:
 *   channel_data`: channel_data is signed as the exact string, never re-serialised.
 * - REST requests carry auth_key, auth_timestamp, auth_version=1.0, body_md5 (hex MD5
 *   of the body bytes, required for a non-empty body and checked whenever present) and
 *   auth_signature = hex HMAC-SHA256(APP_SECRET, `METHOD\n<path>\n<query>`), where the
 *   query is every other parameter, keys lowercased, sorted by key, `key=value` joined
 *   with `&`, values not URL-escaped. A repeated key is refused: it could be read two ways.
 * - auth_timestamp more than 600 s from the server's clock, either way, is refused.
 * - Every comparison of a signature, key or digest is constant time. The secret never
 *   reaches a log, an error message or a response.
 */
import { createHash, createHmac } from "node:crypto";
import { CHANNEL_LIMITS } from "../../lib/protocol/channels";
import { timingSafeEqualString } from "../crypto/random";

export interface AppCredentials {
  appId: string;
  /** Public: it prefixes every channel auth and is REST's auth_key. */
  key: string;
  secret: string;
}

export const AUTH_VERSION = "1.0";

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
  credentials: AppCredentials,
  socketId: string,
  channel: string,
  channelData?: string,
): string {
  const text = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${credentials.key}:${signHmacSha256Hex(credentials.secret, text)}`;
}

/** Whether `auth` is what this app signs for exactly this socket, channel and channel_data. */
export function verifyChannelAuth(
  credentials: AppCredentials,
  input: { socketId: string; channel: string; channelData?: string; auth: string | undefined },
): boolean {
  if (typeof input.auth !== "string") return false;
  const expected = signChannelAuth(credentials, input.socketId, input.channel, input.channelData);
  return timingSafeEqualString(expected, input.auth);
}

/** `METHOD\n<path>\n<k=v&...>`: keys lowercased and sorted, values as they are. */
export function buildStringToSign(method: string, path: string, params: ReadonlyMap<string, string>): string {
  const query = [...params.entries()]
    .filter(([key]) => key !== "auth_signature")
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  return `${method.toUpperCase()}\n${path}\n${query}`;
}

/**
 * The query parameters of a signed REST request (what a client SDK sends), including
 * auth_signature. `timestamp` is seconds since the epoch; `params` are the request's
 * own parameters (e.g. info, filter_by_prefix).
 */
export function signRestRequest(
  credentials: AppCredentials,
  request: { method: string; path: string; params?: Record<string, string>; body?: string; timestamp: number },
): Record<string, string> {
  const params = new Map<string, string>([
    ["auth_key", credentials.key],
    ["auth_timestamp", String(Math.floor(request.timestamp))],
    ["auth_version", AUTH_VERSION],
  ]);
  if (request.body) params.set("body_md5", md5Hex(request.body));
  for (const [key, value] of Object.entries(request.params ?? {})) params.set(key.toLowerCase(), value);
  const signature = signHmacSha256Hex(credentials.secret, buildStringToSign(request.method, request.path, params));
  return { ...Object.fromEntries(params), auth_signature: signature };
}

export type RestAuthFailure = "invalid_auth" | "invalid_timestamp";

export type RestAuthResult =
  | {
      ok: true;
      /** Every query parameter, keys lowercased (the auth ones included). */
      params: ReadonlyMap<string, string>;
    }
  | { ok: false; code: RestAuthFailure };

/**
 * Checks a REST request's query (before its body is read): the key, the version, the
 * signature over method, path and query, then the timestamp. `query` is the raw query
 * string without the leading `?`; `path` the raw request path.
 */
export function verifyRestQuery(
  credentials: AppCredentials,
  request: { method: string; path: string; query: string; nowMs: number },
): RestAuthResult {
  const params = new Map<string, string>();
  for (const [rawKey, value] of new URLSearchParams(request.query)) {
    const key = rawKey.toLowerCase();
    if (params.has(key)) return { ok: false, code: "invalid_auth" };
    params.set(key, value);
  }
  const key = params.get("auth_key");
  const signature = params.get("auth_signature");
  const timestamp = params.get("auth_timestamp");
  if (key === undefined || signature === undefined || timestamp === undefined)
    return { ok: false, code: "invalid_auth" };
  if (params.get("auth_version") !== AUTH_VERSION) return { ok: false, code: "invalid_auth" };
  const expected = signHmacSha256Hex(credentials.secret, buildStringToSign(request.method, request.path, params));
  // Both checks always run, so the time taken does not tell which one failed.
  const isKeyRight = timingSafeEqualString(key, credentials.key);
  const isSignatureRight = timingSafeEqualString(signature, expected);
  if (!isKeyRight || !isSignatureRight) return { ok: false, code: "invalid_auth" };
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, code: "invalid_timestamp" };
  const skewSeconds = Math.abs(request.nowMs / 1000 - Number(timestamp));
  if (skewSeconds > CHANNEL_LIMITS.authTimestampToleranceSeconds) return { ok: false, code: "invalid_timestamp" };
  return { ok: true, params };
}

/** body_md5 must be present for a non-empty body, and must match whenever present. */
export function verifyBodyMd5(params: ReadonlyMap<string, string>, body: Uint8Array): boolean {
  const claimed = params.get("body_md5");
  if (claimed === undefined) return body.length === 0;
  return timingSafeEqualString(claimed.toLowerCase(), md5Hex(body));
}
