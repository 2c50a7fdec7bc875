/*
 * Checking Pusher-compatible signatures (docs/protocol.md section 2). The signing itself is
 * lib/sdk/node/pusher-signing.ts, shared with the server SDK.
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
import { CHANNEL_LIMITS } from "../../lib/protocol/channels";
import {
  AUTH_VERSION,
  buildStringToSign,
  md5Hex,
  signChannelAuth,
  signHmacSha256Hex,
  signRequestParams,
  type SignRequestInput,
} from "../../lib/sdk/node/pusher-signing";
import { timingSafeEqualString } from "../crypto/random";

export { buildStringToSign, md5Hex, signChannelAuth } from "../../lib/sdk/node/pusher-signing";

export interface AppCredentials {
  appId: string;
  /** Public: it prefixes every channel auth and is REST's auth_key. */
  key: string;
  secret: string;
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

/**
 * The query parameters of a signed REST request (what a client SDK sends), including
 * auth_signature: the SDK's signing, with parameter keys lowercased as this server reads them.
 */
export function signRestRequest(credentials: AppCredentials, request: SignRequestInput): Record<string, string> {
  const params = Object.entries(request.params ?? {}).map(([key, value]) => [key.toLowerCase(), value] as const);
  return signRequestParams(credentials, { ...request, params: Object.fromEntries(params) });
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
