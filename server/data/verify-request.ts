/**
 * Verification of a signed data fetch (docs/protocol.md section 3).
 *
 * What is signed: EIP-191 personal_sign of the text `message` when it is a string, else
 * of `JSON.stringify(message)` of the object exactly as it arrived (see
 * lib/protocol/data.ts for why that reproduces the sender's text). The signer must
 * be the app's registered address; `messageHash`, when sent, must be the EIP-191 hash
 * of that text (the server always computes its own).
 *
 * Order, cheapest first, so a bad request costs no elliptic-curve work and no store
 * round trip: shape -> time window -> app lookup (cached) -> messageHash -> recovery ->
 * replay claim -> per-app rate limit. Replays and bad signatures are refused before
 * the rate limit, so a captured request replayed by someone else cannot use up the
 * app's quota; a request refused with 429 has spent its signature (sign a new one).
 *
 * Replay: each signature is accepted once. The replay key is its r || s (v left out, so
 * the 27/28 and 0/1 spellings of one signature are one key); the verifier refuses
 * high-s, so no second valid form of a signature exists. A key is held until the
 * message's `exp`, after which the message is refused as expired anyway. The cache can be
 * lost (Redis restarted empty, a node with memory stores restarted): a message whose `iat`
 * is before the stores' epoch (Stores.readEpoch, the second they came back) is refused as
 * `expired`, since it may have been claimed in the lost cache.
 *
 * Time (seconds since the epoch): `exp > now` (else `expired`), `iat <= now + 60`,
 * `iat < exp` and `exp - iat <= 86400` (else `invalid_window`).
 */
import { DATA_CLOCK_SKEW_SECONDS, MAX_DATA_WINDOW_SECONDS } from "../../lib/protocol/data";
import { dataMessageSchema, dataRequestBodySchema } from "../../lib/protocol/data-schemas";
import type { ParsedDataMessage } from "../../lib/protocol/data-schemas";
import { hashPersonalMessage, parseSignatureHex, toHex } from "../crypto/eip191";
import type { SignatureVerifier } from "../crypto/secp256k1";
import type { RateLimiter, ReplayCache } from "../store/types";
import type { AppDirectory, AppRecord } from "./app-directory";

export const DATA_RATE_WINDOW_MS = 60_000;

export type DataVerifyCode =
  "invalid_request" | "unknown_app" | "invalid_signature" | "expired" | "invalid_window" | "replayed" | "rate_limited";

export type DataVerifyResult =
  { ok: true; app: AppRecord; message: ParsedDataMessage } | { ok: false; code: DataVerifyCode; retryAfterMs?: number };

export interface DataVerifyDeps {
  verifier: SignatureVerifier;
  apps: Pick<AppDirectory, "find">;
  replayCache: ReplayCache;
  rateLimiter: RateLimiter;
  /** The stores' epoch (Stores.readEpoch): a message dated before it may have been accepted already. */
  readStoreEpoch?: () => number | Promise<number>;
}

const fail = (code: DataVerifyCode): DataVerifyResult => ({ ok: false, code });

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The signed text and the fields to read from it, or null when `message` is neither a JSON object nor its text. */
function readSignedMessage(message: unknown): { text: string; fields: Record<string, unknown> } | null {
  if (typeof message === "string") {
    let fields: unknown;
    try {
      fields = JSON.parse(message);
    } catch {
      return null;
    }
    return isPlainObject(fields) ? { text: message, fields } : null;
  }
  return isPlainObject(message) ? { text: JSON.stringify(message), fields: message } : null;
}

/** Checks the time window; `nowSeconds` may be fractional. */
export function checkDataWindow(
  message: Pick<ParsedDataMessage, "iat" | "exp">,
  nowSeconds: number,
): "expired" | "invalid_window" | null {
  if (message.exp <= nowSeconds) return "expired";
  if (message.iat > nowSeconds + DATA_CLOCK_SKEW_SECONDS) return "invalid_window";
  if (message.exp <= message.iat || message.exp - message.iat > MAX_DATA_WINDOW_SECONDS) return "invalid_window";
  return null;
}

/**
 * Verifies a parsed JSON body. Expected refusals are values; only a failing store or
 * database throws.
 */
export async function verifyDataRequest(
  deps: DataVerifyDeps,
  body: unknown,
  nowMs: number = Date.now(),
): Promise<DataVerifyResult> {
  const parsedBody = dataRequestBodySchema.safeParse(body);
  if (!parsedBody.success) return fail("invalid_request");
  // The message as it arrived, not zod's copy: the text must be re-stringified from the original.
  const signed = readSignedMessage((body as { message: unknown }).message);
  if (!signed) return fail("invalid_request");
  const parsedMessage = dataMessageSchema.safeParse(signed.fields);
  if (!parsedMessage.success) return fail("invalid_request");
  const message = parsedMessage.data;

  const windowProblem = checkDataWindow(message, nowMs / 1000);
  if (windowProblem) return fail(windowProblem);

  const app = await deps.apps.find(message.appId);
  if (!app || !app.active) return fail("unknown_app");

  const digest = hashPersonalMessage(signed.text);
  const { fyresign, messageHash } = parsedBody.data;
  if (messageHash !== undefined && messageHash.toLowerCase() !== toHex(digest)) return fail("invalid_signature");
  const signature = parseSignatureHex(fyresign);
  if (!signature) return fail("invalid_request");
  if (deps.verifier.recoverAddress(digest, signature) !== app.address) return fail("invalid_signature");

  // Read right before the claim: the claim then lands in a store that holds everything since it.
  if (deps.readStoreEpoch && message.iat * 1000 < (await deps.readStoreEpoch())) return fail("expired");
  const replayKey = `data:${Buffer.from(signature.buffer, signature.byteOffset, 64).toString("base64url")}`;
  if (!(await deps.replayCache.claim(replayKey, message.exp * 1000))) return fail("replayed");

  const limited = await deps.rateLimiter.hit(`data:${app.id}`, app.rateLimitPerMinute, DATA_RATE_WINDOW_MS);
  if (!limited.ok) return { ok: false, code: "rate_limited", retryAfterMs: limited.retryAfterMs };

  return { ok: true, app, message };
}
