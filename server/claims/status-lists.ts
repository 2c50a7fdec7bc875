/**
 * The verifier's status list checks (IETF Token Status List; docs/protocol.md section 4): a
 * presented credential whose payload has `status.status_list: {idx, uri}` is valid only if
 * entry `idx` of the list at `uri` is 0.
 *
 * API: createStatusListChecker({ fetch?, timeoutMs?, maxCacheSeconds?, now? })
 *   -> { check({ attestor, uri, idx }) -> { ok: true } | { ok: false, reason, detail } }.
 * `reason` is one of STATUS_REASONS (sent to the wallet), `detail` is for the logs.
 *
 * Rules:
 * - No SSRF: only a URI whose origin is one of the trusted attestor's status origins
 *   (attestor-directory.ts: its http(s) issuer's origin, or this server's for a hosted one) is
 *   fetched; no user info, no redirects followed, a 5 s timeout, at most 1 MiB of body.
 * - The token must be `typ: statuslist+jwt`, ES256K, signed by one of the attestor's accepted
 *   keys, `sub` equal to the URI, `iat` present, `exp` (if any) not passed, `status_list` decodable.
 * - A fetched list is cached per URI for its `ttl` (default 60 s), at most `maxCacheSeconds`
 *   (300 s) and never past `exp`; concurrent checks of one URI share one fetch. At most
 *   MAX_CACHED_LISTS lists are kept (oldest dropped).
 * - A list that cannot be fetched or verified refuses the credential (`status_list_unavailable`);
 *   the failure is not cached, so the next login fetches again.
 */
import { ES256K, base64urlDecode, verifyEs256k } from "../../lib/claims/es256k";
import type { AcceptedKey, TrustedAttestor } from "./attestor-directory";
import {
  DEFAULT_STATUS_LIST_TTL_SECONDS,
  STATUS_LIST_MEDIA_TYPE,
  STATUS_LIST_TYP,
  decodeStatusList,
  statusAt,
  type DecodedStatusList,
} from "./status-list-token";

export const STATUS_REASONS = ["credential_revoked", "credential_suspended", "status_list_unavailable"] as const;
export type StatusReason = (typeof STATUS_REASONS)[number];

export const STATUS_FETCH_TIMEOUT_MS = 5_000;
export const MAX_STATUS_LIST_BODY_BYTES = 1 << 20;
export const MAX_STATUS_CACHE_SECONDS = 300;
export const MAX_CACHED_LISTS = 1_000;

export type StatusCheckResult = { ok: true } | { ok: false; reason: StatusReason; detail: string };

export interface StatusListCheckerOptions {
  fetch?: typeof fetch;
  timeoutMs?: number;
  maxCacheSeconds?: number;
  /** Epoch ms. */
  now?: () => number;
}

interface CachedList {
  until: number;
  list: Promise<DecodedStatusList>;
}

class StatusListError extends Error {}

function decodeJsonPart(part: string | undefined): Record<string, unknown> | undefined {
  const bytes = part === undefined ? null : base64urlDecode(part);
  if (!bytes) return undefined;
  try {
    const value = JSON.parse(new TextDecoder().decode(bytes)) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The URI if it may be fetched for this attestor, else undefined. */
export function allowedStatusUri(uri: string, attestor: Pick<TrustedAttestor, "statusOrigins">): URL | undefined {
  if (!URL.canParse(uri)) return undefined;
  const url = new URL(uri);
  if (url.protocol !== "https:" && url.protocol !== "http:") return undefined;
  if (url.username || url.password || url.hash) return undefined;
  return attestor.statusOrigins.has(url.origin) ? url : undefined;
}

async function readBounded(response: Response, limit: number): Promise<string> {
  const reader = response.body?.getReader();
  if (!reader) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel();
      throw new StatusListError(`body over ${limit} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function verifiesWithKeys(keys: readonly AcceptedKey[], iat: number, input: string, signature: string): boolean {
  return keys.some(
    (key) => (key.issuedBefore === undefined || iat < key.issuedBefore) && verifyEs256k(key.jwk, input, signature),
  );
}

export function createStatusListChecker(options: StatusListCheckerOptions = {}) {
  const doFetch = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? STATUS_FETCH_TIMEOUT_MS;
  const maxCacheMs = (options.maxCacheSeconds ?? MAX_STATUS_CACHE_SECONDS) * 1000;
  const readNow = options.now ?? Date.now;
  const cache = new Map<string, CachedList>();
  let fetches = 0;

  async function fetchList(url: URL, attestor: TrustedAttestor, entry: CachedList): Promise<DecodedStatusList> {
    fetches++;
    let response: Response;
    try {
      response = await doFetch(url, {
        headers: { Accept: STATUS_LIST_MEDIA_TYPE },
        redirect: "error",
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error) {
      throw new StatusListError(`fetch failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw new StatusListError(`answered ${response.status}`);
    }
    const jwt = (await readBounded(response, MAX_STATUS_LIST_BODY_BYTES)).trim();
    const [h, p, signature, extra] = jwt.split(".");
    const header = decodeJsonPart(h);
    const payload = decodeJsonPart(p);
    if (!header || !payload || signature === undefined || extra !== undefined) throw new StatusListError("not a JWT");
    if (header.typ !== STATUS_LIST_TYP || header.alg !== ES256K) throw new StatusListError("wrong typ or alg");
    if (payload.sub !== url.href) throw new StatusListError("sub is not the status list URI");
    if (typeof payload.iat !== "number") throw new StatusListError("no iat");
    if (!verifiesWithKeys(attestor.keys, payload.iat, `${h}.${p}`, signature)) {
      throw new StatusListError("not signed by the attestor");
    }
    const now = readNow();
    const exp = typeof payload.exp === "number" ? payload.exp * 1000 : undefined;
    if (exp !== undefined && exp <= now) throw new StatusListError("expired");
    const statusList = payload.status_list as { lst?: unknown; bits?: unknown } | undefined;
    const decoded = decodeStatusList(statusList?.lst, statusList?.bits);
    if (typeof decoded === "string") throw new StatusListError(decoded);
    const ttl = typeof payload.ttl === "number" && payload.ttl > 0 ? payload.ttl : DEFAULT_STATUS_LIST_TTL_SECONDS;
    entry.until = Math.min(now + ttl * 1000, now + maxCacheMs, exp ?? Infinity);
    return decoded;
  }

  function listFor(url: URL, attestor: TrustedAttestor): Promise<DecodedStatusList> {
    // Keyed by issuer too: one attestor's cached list is never taken for another's.
    const key = `${attestor.iss}\n${url.href}`;
    const now = readNow();
    const cached = cache.get(key);
    if (cached && cached.until > now) return cached.list;
    // Until fetched, the entry lives for the fetch's duration only (shared by concurrent checks).
    const entry: CachedList = { until: now + timeoutMs, list: Promise.resolve({ bytes: new Uint8Array(), bits: 1 }) };
    entry.list = fetchList(url, attestor, entry);
    entry.list.catch(() => {
      if (cache.get(key) === entry) cache.delete(key);
    });
    cache.delete(key);
    cache.set(key, entry);
    if (cache.size > MAX_CACHED_LISTS) {
      const oldest = cache.keys().next();
      if (!oldest.done) cache.delete(oldest.value);
    }
    return entry.list;
  }

  return {
    async check(input: { attestor: TrustedAttestor; uri: unknown; idx: unknown }): Promise<StatusCheckResult> {
      const unavailable = (detail: string): StatusCheckResult => ({
        ok: false,
        reason: "status_list_unavailable",
        detail,
      });
      if (typeof input.uri !== "string" || !Number.isSafeInteger(input.idx) || (input.idx as number) < 0) {
        return unavailable("malformed status_list reference");
      }
      const url = allowedStatusUri(input.uri, input.attestor);
      if (!url) return unavailable("status list URI not at a trusted origin of the attestor");
      let list: DecodedStatusList;
      try {
        list = await listFor(url, input.attestor);
      } catch (error) {
        return unavailable(`status list: ${error instanceof Error ? error.message : String(error)}`);
      }
      const value = statusAt(list, input.idx as number);
      if (value === undefined) return unavailable("status index out of range");
      if (value === 0) return { ok: true };
      if (value === 1) return { ok: false, reason: "credential_revoked", detail: "credential revoked" };
      if (value === 2) return { ok: false, reason: "credential_suspended", detail: "credential suspended" };
      return { ok: false, reason: "credential_revoked", detail: `credential status ${value}` };
    },
    /** Status lists fetched so far (tests, bench). */
    countFetches: () => fetches,
  };
}

export type StatusListChecker = ReturnType<typeof createStatusListChecker>;
