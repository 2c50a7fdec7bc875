/**
 * The wallet's side of QR login (docs/protocol.md section 1).
 *
 * - The QR text is the request URL itself. Only an http(s) URL of the shape
 *   `<PUBLIC_URL>/api/login/requests/<sessionId>` without user info is fetched.
 * - A request speaks only for the site the QR points to: its `domain` must be the
 *   QR's host and its `responseUri` must be on the QR's origin. Otherwise any page
 *   could serve another site's request under its own URL, collect the signature
 *   and replay it there.
 * - The signed message copies the request's fields; only `address` and `issuedAt`
 *   come from the wallet.
 * - `approveLogin` does not check the match code against `matchChoices`: the UI
 *   offers only those, and tests need to send a wrong one on purpose. In `type` mode
 *   (`request.matchMode`, no choices) the UI asks for the two digits the page shows and
 *   passes them through `readTypedMatchCode` as `matchCode`.
 * - A 503 `unavailable` (the server's store is away for a moment) is asked again after its
 *   Retry-After (1-5 s), UNAVAILABLE_ATTEMPTS times in all. Sending the same answer twice
 *   is safe: the server takes an answer once, whatever happened to the first try.
 */
import { z } from "zod";
import { API_PATHS } from "../protocol/login";
import {
  hasMatchChoicesOfItsMode,
  loginRequestSchema,
  matchCodeSchema,
  sessionIdSchema,
} from "../protocol/login-schemas";
import type { AuthBody, LoginRequest } from "../protocol/login";
import { formatSiweMessage } from "../protocol/siwe";
import type { SiweMessage } from "../protocol/siwe";
import { WalletError } from "./wallet-error";
import type { WalletKey } from "./wallet-key";

export interface WalletFetchOptions {
  /** Defaults to the global fetch; tests and the benchmark inject their own. */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

const REQUEST_PATH = /\/api\/login\/requests\/([^/]+)$/;

/** Checks that the scanned text is a login request URL and returns it with its session id. */
export function parseLoginQr(qrText: string): { url: URL; sessionId: string } {
  let url: URL;
  try {
    url = new URL(qrText.trim());
  } catch {
    throw new WalletError("invalid_qr", "The QR code does not hold a URL.");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    throw new WalletError("invalid_qr", "The QR code's URL is not http(s).");
  }
  if (url.username || url.password) {
    throw new WalletError("invalid_qr", "The QR code's URL carries credentials.");
  }
  const sessionId = REQUEST_PATH.exec(url.pathname)?.[1];
  if (sessionId === undefined || !sessionIdSchema.safeParse(sessionId).success) {
    throw new WalletError("invalid_qr", "The QR code is not a login request.");
  }
  return { url, sessionId };
}

/** What the wallet does after scanning; moves the session from `pending` to `scanned`. */
export async function fetchLoginRequest(qrText: string, options: WalletFetchOptions = {}): Promise<LoginRequest> {
  const { url, sessionId } = parseLoginQr(qrText);
  const body = await requestJson(url.href, { method: "GET", headers: { accept: "application/json" } }, options);
  const parsed = loginRequestSchema.safeParse(body);
  if (!parsed.success || !hasMatchChoicesOfItsMode(parsed.data)) {
    throw new WalletError("invalid_response", "The login request from the server is malformed.");
  }
  const request = parsed.data as LoginRequest;
  if (request.sessionId !== sessionId) {
    throw new WalletError("invalid_response", "The server answered for another session.");
  }
  if (request.domain.toLowerCase() !== url.host || new URL(request.responseUri).origin !== url.origin) {
    throw new WalletError(
      "domain_mismatch",
      `The request claims ${request.domain} but the QR code points to ${url.host}.`,
    );
  }
  return request;
}

/**
 * The `matchCode` to send for what the person typed in `type` mode (QR or push): two digits,
 * 10 to 99, spaces ignored. Anything else throws `invalid_match_code` before anything is sent,
 * so a slip of the keyboard does not end the session; a wrong number of that shape does.
 */
export function readTypedMatchCode(typed: string): string {
  const code = typed.replace(/\s+/g, "");
  if (!matchCodeSchema.safeParse(code).success) {
    throw new WalletError("invalid_match_code", "Type the two digits the page shows (10 to 99).");
  }
  return code;
}

/** The EIP-4361 text the wallet signs for `request`. */
export function buildLoginMessage(request: LoginRequest, address: string, now: Date = new Date()): string {
  const message: SiweMessage = {
    domain: request.domain,
    address,
    statement: request.statement,
    uri: request.uri,
    version: request.version,
    chainId: request.chainId,
    nonce: request.nonce,
    issuedAt: now.toISOString(),
    expirationTime: request.expirationTime,
    requestId: request.requestId,
  };
  try {
    return formatSiweMessage(message);
  } catch (cause) {
    // A field that would change the text's meaning (a newline in the statement...) is refused, not signed.
    throw new WalletError("invalid_response", "The login request holds a field EIP-4361 cannot carry.", undefined, {
      cause,
    });
  }
}

export interface ApproveLoginInput extends WalletFetchOptions {
  key: WalletKey;
  request: LoginRequest;
  matchCode: string;
  /** SD-JWT VC presentation (docs/protocol.md section 4) when the request lists `requiredClaims`. */
  presentation?: string;
  now?: Date;
}

/** Signs the request: the body of `POST /api/auth`, apart so benchmarks can sign ahead. */
export async function createAuthBody(input: Omit<ApproveLoginInput, keyof WalletFetchOptions>): Promise<AuthBody> {
  const message = buildLoginMessage(input.request, input.key.address, input.now);
  const signature = await input.key.signMessage(message);
  const body: AuthBody = { sessionId: input.request.sessionId, message, signature, matchCode: input.matchCode };
  if (input.presentation !== undefined) body.presentation = input.presentation;
  return body;
}

const approvedSchema = z.object({ ok: z.literal(true), state: z.literal("approved") });
const deniedSchema = z.object({ ok: z.literal(true), state: z.literal("denied") });

export async function approveLogin(input: ApproveLoginInput): Promise<{ ok: true; state: "approved" }> {
  const body = await createAuthBody(input);
  const answer = await postJson(input.request.responseUri, body, input);
  return parseAnswer(approvedSchema, answer);
}

export async function denyLogin(
  request: LoginRequest,
  options: WalletFetchOptions = {},
): Promise<{ ok: true; state: "denied" }> {
  const url = new URL(API_PATHS.deny, request.responseUri).href;
  const answer = await postJson(url, { sessionId: request.sessionId }, options);
  return parseAnswer(deniedSchema, answer);
}

function parseAnswer<T>(schema: z.ZodType<T>, answer: unknown): T {
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new WalletError("invalid_response", "The server's answer is malformed.");
  return parsed.data;
}

const jsonPost = (body: unknown): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

/** POSTs JSON and reads the answer; an error body becomes a WalletError (shared with push.ts's pairing). */
export function postJson(url: string, body: unknown, options: WalletFetchOptions): Promise<unknown> {
  return requestJson(url, jsonPost(body), options);
}

/** postJson without trying `unavailable` again: for a step that uses up a challenge (see retryUnavailable). */
export function postJsonOnce(url: string, body: unknown, options: WalletFetchOptions): Promise<unknown> {
  return requestJsonOnce(url, jsonPost(body), options);
}

const errorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });
const UNAVAILABLE_ATTEMPTS = 3;

/** A JSON answer, or a WalletError with the protocol code; `unavailable` is tried again a few times. */
export function requestJson(url: string, init: RequestInit, options: WalletFetchOptions): Promise<unknown> {
  return retryUnavailable(() => requestJsonOnce(url, init, options), options);
}

/**
 * Runs `attempt` again after Retry-After (1-5 s) while it fails `unavailable`, UNAVAILABLE_ATTEMPTS
 * times in all. A step that uses up something single-use (a challenge) retries from taking a new one.
 */
export async function retryUnavailable<T>(attempt: () => Promise<T>, options: WalletFetchOptions): Promise<T> {
  for (let tries = 1; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const isRetryable = error instanceof WalletError && error.code === "unavailable" && !options.signal?.aborted;
      if (!isRetryable || tries >= UNAVAILABLE_ATTEMPTS) throw error;
      const seconds = Math.min(5, Math.max(1, error.retryAfterSeconds ?? 1));
      await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
    }
  }
}

/** One request: a JSON answer, or a WalletError with the protocol code (`unavailable` too). */
export async function requestJsonOnce(url: string, init: RequestInit, options: WalletFetchOptions): Promise<unknown> {
  // Called as a plain function: browsers reject fetch invoked as a method of another object.
  const doFetch = options.fetch ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(url, { ...init, signal: options.signal });
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    throw new WalletError("network_error", `Could not reach ${new URL(url).origin}.`, undefined, { cause });
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok) return body;
  const error = errorBodySchema.safeParse(body);
  if (error.success) {
    const walletError = new WalletError(error.data.error.code, error.data.error.message, response.status);
    const retryAfter = Number(response.headers.get("retry-after"));
    if (Number.isFinite(retryAfter) && retryAfter > 0) walletError.retryAfterSeconds = retryAfter;
    throw walletError;
  }
  throw new WalletError("http_error", `The server answered ${response.status}.`, response.status);
}
