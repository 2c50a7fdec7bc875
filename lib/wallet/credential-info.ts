/**
 * What a wallet shows about a credential it holds (docs/protocol.md section 6): issuer, type,
 * every claim it can disclose with its value, times and its status-list reference. Read from
 * the SD-JWT VC itself; nothing is verified here (the attestor's signature is checked on receipt).
 */
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { getListFromStatusListJWT } from "@sd-jwt/jwt-status-list";
import { sdJwtHasher } from "../claims/credentials";

export interface CredentialInfo {
  issuer: string;
  vct: string;
  /** Every disclosable claim and its value. */
  claims: Record<string, unknown>;
  issuedAt: string | null;
  expiresAt: string | null;
  /** The Token Status List entry, when the credential has one. */
  statusList: { idx: number; uri: string } | null;
}

const REGISTERED = new Set(["iss", "vct", "iat", "nbf", "exp", "cnf", "status", "sub", "jti", "_sd_alg"]);

const isoOf = (seconds: unknown) => (typeof seconds === "number" ? new Date(seconds * 1000).toISOString() : null);

export async function readCredentialInfo(credential: string): Promise<CredentialInfo> {
  const sdjwt = new SDJwtVcInstance({ hasher: sdJwtHasher });
  const claims = (await sdjwt.getClaims(credential.trim())) as Record<string, unknown>;
  const status = claims.status as { status_list?: { idx?: unknown; uri?: unknown } } | undefined;
  const list = status?.status_list;
  return {
    issuer: String(claims.iss ?? ""),
    vct: String(claims.vct ?? ""),
    claims: Object.fromEntries(Object.entries(claims).filter(([name]) => !REGISTERED.has(name))),
    issuedAt: isoOf(claims.iat),
    expiresAt: isoOf(claims.exp),
    statusList: typeof list?.idx === "number" && typeof list.uri === "string" ? { idx: list.idx, uri: list.uri } : null,
  };
}

/** Whether the credential is past its `exp` at `now` (epoch ms). */
export function isExpired(info: CredentialInfo, now: number = Date.now()): boolean {
  return info.expiresAt !== null && Date.parse(info.expiresAt) <= now;
}

export type CredentialState = "valid" | "expired" | "revoked" | "suspended" | "unknown";

/**
 * The credential's state for display: expired by its `exp`, else its status-list bit (0 valid,
 * 1 revoked, 2 suspended) fetched from the list it names, or `unknown` when the list does not
 * answer. The list token's signature is not checked here: a login's verifier does that.
 */
export async function readCredentialState(
  info: CredentialInfo,
  options: { fetch?: typeof fetch; now?: number } = {},
): Promise<CredentialState> {
  if (isExpired(info, options.now)) return "expired";
  if (!info.statusList) return "valid";
  const doFetch = options.fetch ?? globalThis.fetch;
  try {
    const response = await doFetch(info.statusList.uri, { headers: { accept: "application/statuslist+jwt" } });
    if (!response.ok) return "unknown";
    const bit = getListFromStatusListJWT((await response.text()).trim()).getStatus(info.statusList.idx);
    return bit === 0 ? "valid" : bit === 1 ? "revoked" : bit === 2 ? "suspended" : "unknown";
  } catch {
    return "unknown";
  }
}

/** Of stored credentials, the first unexpired one that can disclose every claim asked for. */
export async function pickCredentialFor<T extends { credential: string }>(
  stored: readonly T[],
  requiredClaims: readonly string[],
  now: number = Date.now(),
): Promise<T | undefined> {
  for (const item of stored) {
    try {
      const info = await readCredentialInfo(item.credential);
      if (!isExpired(info, now) && requiredClaims.every((name) => Object.hasOwn(info.claims, name))) return item;
    } catch {
      // A credential that does not parse is skipped; the list shows it as such.
    }
  }
  return undefined;
}
