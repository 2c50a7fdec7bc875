/**
 * The partner's side of signed data fetches (docs/protocol.md section 3), for Node or any
 * runtime with fetch and Web Crypto.
 *
 * Every call signs a fresh message: `{appId, iat, exp, nonce, metaData: {limit, page},
 * ...filters}` with `iat` now and `exp` `ttlSeconds` later (seconds since the epoch),
 * and a random `nonce`, so two calls in the same second are two different signatures
 * (the server accepts each signature once). The signed text is
 * `JSON.stringify(message)`, signed with EIP-191 personal_sign; the request carries the
 * object, the signature as `fyresign` and the EIP-191 hash as `messageHash`.
 *
 * The private key stays in this object; it is never sent, logged or put in an error.
 */
import { Wallet, hashMessage } from "ethers";
import { DATA_API_PATHS, DATA_ERROR_CODES, MAX_DATA_WINDOW_SECONDS } from "../protocol/data";
import { dataPageMetaSchema } from "../protocol/data-schemas";
import type { DataErrorCode, DataItems, DataMessage, DataPage, DataRequestBody, DataResource } from "../protocol/data";

export const DEFAULT_DATA_TTL_SECONDS = 300;

/** The server's codes, `network_error` (no answer) and `invalid_response` (an answer that is not the protocol's). */
export type DataClientErrorCode = DataErrorCode | "network_error" | "invalid_response";

export class DataApiError extends Error {
  override name = "DataApiError";
  constructor(
    readonly code: DataClientErrorCode,
    /** The HTTP status, 0 when there was no answer. */
    readonly status: number,
    message: string,
    /** From Retry-After on 429. */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface DataClientOptions {
  /** The auth server's origin, e.g. https://auth.example.com */
  endpoint: string;
  appId: string;
  /** 0x + 32 bytes of hex: the key of the app's registered address. */
  privateKey: string;
  /** exp - iat of each signed message (default 300, at most 86400). */
  ttlSeconds?: number;
  fetch?: typeof fetch;
  /** Epoch ms; tests move the clock. */
  now?: () => number;
}

export interface DataFetchOptions {
  limit?: number;
  page?: number;
  /** Extra fields signed into the message (the server ignores fields it does not know). */
  filters?: Record<string, unknown>;
}

export interface DataClient {
  readonly appId: string;
  /** The address requests are signed with (EIP-55). */
  readonly address: string;
  fetch<R extends DataResource>(resource: R, options?: DataFetchOptions): Promise<DataPage<DataItems[R]>>;
  /** The signed body for one request, without sending it. */
  signRequest(options?: DataFetchOptions): DataRequestBody;
}

function randomNonce(): string {
  const bytes = new Uint8Array(16);
  globalThis.crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

const KNOWN_CODES: readonly string[] = DATA_ERROR_CODES;

export function createDataClient(options: DataClientOptions): DataClient {
  const endpoint = options.endpoint.replace(/\/+$/, "");
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_DATA_TTL_SECONDS;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_DATA_WINDOW_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer from 1 to ${MAX_DATA_WINDOW_SECONDS}`);
  }
  let wallet: Wallet;
  try {
    wallet = new Wallet(options.privateKey);
  } catch (cause) {
    // Not the key itself in the message.
    throw new TypeError("privateKey is not a valid secp256k1 private key (0x + 64 hex)", { cause });
  }
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const now = options.now ?? Date.now;

  function signRequest(fetchOptions: DataFetchOptions = {}): DataRequestBody {
    const iat = Math.floor(now() / 1000);
    const message: DataMessage = {
      ...fetchOptions.filters,
      appId: options.appId,
      iat,
      exp: iat + ttlSeconds,
      nonce: randomNonce(),
      metaData: { limit: fetchOptions.limit ?? 20, page: fetchOptions.page ?? 1 },
    };
    const text = JSON.stringify(message);
    return { message, fyresign: wallet.signMessageSync(text), messageHash: hashMessage(text) };
  }

  async function fetchData<R extends DataResource>(
    resource: R,
    fetchOptions: DataFetchOptions = {},
  ): Promise<DataPage<DataItems[R]>> {
    const body = signRequest(fetchOptions);
    let response: Response;
    try {
      response = await doFetch(`${endpoint}${DATA_API_PATHS.data(resource)}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify(body),
      });
    } catch (cause) {
      throw new DataApiError("network_error", 0, `The data API at ${endpoint} did not answer.`, undefined, { cause });
    }
    let answer: unknown;
    try {
      answer = await response.json();
    } catch (cause) {
      throw new DataApiError("invalid_response", response.status, "The answer is not JSON.", undefined, { cause });
    }
    if (!response.ok) throw toError(response, answer);
    const page = answer as Partial<DataPage<DataItems[R]>> | null;
    if (!page || !Array.isArray(page.data) || !dataPageMetaSchema.safeParse(page.meta).success) {
      throw new DataApiError("invalid_response", response.status, "The answer is not a data page.");
    }
    return page as DataPage<DataItems[R]>;
  }

  return { appId: options.appId, address: wallet.address, fetch: fetchData, signRequest };
}

function toError(response: Response, answer: unknown): DataApiError {
  const error = (answer as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : undefined;
  const message = typeof error?.message === "string" ? error.message : `HTTP ${response.status}`;
  const retryAfter = Number(response.headers.get("retry-after"));
  const retryAfterSeconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined;
  if (code !== undefined && KNOWN_CODES.includes(code)) {
    return new DataApiError(code as DataErrorCode, response.status, message, retryAfterSeconds);
  }
  return new DataApiError("invalid_response", response.status, `Unexpected answer (${code ?? "no code"}): ${message}`);
}
