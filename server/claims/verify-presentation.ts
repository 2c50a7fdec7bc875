/**
 * Verification of a wallet's `presentation` (docs/protocol.md section 4): an SD-JWT VC (ES256K)
 * from a trusted attestor with a key-binding JWT, checked against the login it came with.
 *
 * Checks, all of which must pass (else `claims_invalid`):
 * - the issuer JWT: `alg` ES256K, `typ` dc+sd-jwt (or the older vc+sd-jwt), `iss` one of
 *   the trusted attestors, signed by that attestor's key, a string `vct`, within its
 *   iat / nbf / exp (60 s of skew), `_sd_alg` sha-256, every disclosure matching a digest;
 * - holder binding: `cnf.jwk` is a secp256k1 key whose address is the address that signed
 *   the EIP-4361 message, and the key-binding JWT (`typ` kb+jwt, ES256K) is signed by it;
 * - the key-binding JWT's `nonce` is the session nonce, `aud` the session `uri`, `iat` not
 *   in the future (60 s) nor older than KB_MAX_AGE_SECONDS, and `sd_hash` covers exactly
 *   the presented SD-JWT.
 * Then every required claim path (lib/claims/claim-paths.ts: `email`, `address.country`,
 * `nationalities.0`) must be disclosed, else `claims_missing`.
 *
 * A credential that carries `status.status_list` (IETF Token Status List) is checked after
 * all of the above through `statusLists` (status-lists.ts: only the attestor's own origins are
 * fetched, lists cached within their ttl): revoked, suspended or a list that cannot be had is
 * `claims_invalid` with `statusReason`. Without a checker, or with another kind of `status`,
 * the credential is refused.
 *
 * The disclosed claims are the credential's claims without the JWT and VC registered ones
 * (iss, vct, cnf, iat, ...); they are what is stored on the user.
 */
import { SDJwtInstance } from "@sd-jwt/core";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { isPathDisclosed } from "../../lib/claims/claim-paths";
import { sdJwtHasher } from "../../lib/claims/credentials";
import { ES256K, addressOfJwk, verifyEs256k } from "../../lib/claims/es256k";
import { fixedAttestors, type AcceptedKey, type AttestorDirectory } from "./attestor-directory";
import type { StatusListChecker, StatusReason } from "./status-lists";

export const CLAIMS_CLOCK_SKEW_SECONDS = 60;
export const KB_MAX_AGE_SECONDS = 300;
const ISSUER_TYPES = new Set(["dc+sd-jwt", "vc+sd-jwt"]);
const REGISTERED_CLAIMS = new Set([
  "iss",
  "sub",
  "aud",
  "iat",
  "nbf",
  "exp",
  "jti",
  "cnf",
  "vct",
  "vct#integrity",
  "status",
  "_sd_alg",
]);

/** Trusted attestors: issuer identifier (`iss`) -> its public secp256k1 JWK, or a directory read per login. */
export type TrustedAttestors = ReadonlyMap<string, unknown> | AttestorDirectory;

export interface PresentationCheck {
  presentation: string;
  /** The session's nonce and uri. */
  nonce: string;
  aud: string;
  /** The address recovered from the EIP-4361 signature. */
  holderAddress: string;
  requiredClaims: readonly string[];
  /** Epoch ms; default now. */
  now?: number;
}

export type PresentationResult =
  | { ok: true; claims: Record<string, unknown> }
  | { ok: false; code: "claims_invalid" | "claims_missing"; reason: string; statusReason?: StatusReason };

const invalid = (reason: string): PresentationResult => ({ ok: false, code: "claims_invalid", reason });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Whether `signature` over `data` is by one of the keys accepted for a credential issued at `iat`. */
function verifyWithAcceptedKeys(keys: readonly AcceptedKey[], iat: unknown, data: string, signature: string): boolean {
  return keys.some(
    (key) =>
      (key.issuedBefore === undefined || (typeof iat === "number" && iat < key.issuedBefore)) &&
      verifyEs256k(key.jwk, data, signature),
  );
}

export interface PresentationVerifierOptions {
  /** Checks `status.status_list`; without it a credential with a status is refused. */
  statusLists?: StatusListChecker;
}

export function createPresentationVerifier(trusted: TrustedAttestors, options: PresentationVerifierOptions = {}) {
  const attestors: AttestorDirectory =
    "find" in trusted && typeof trusted.find === "function"
      ? (trusted as AttestorDirectory)
      : fixedAttestors(trusted as ReadonlyMap<string, unknown>);
  const decoder = new SDJwtVcInstance({ hasher: sdJwtHasher });

  return {
    async verify(check: PresentationCheck): Promise<PresentationResult> {
      const nowSeconds = Math.floor((check.now ?? Date.now()) / 1000);
      let decoded: Awaited<ReturnType<typeof decoder.decode>>;
      try {
        decoded = await decoder.decode(check.presentation);
      } catch {
        return invalid("not an SD-JWT");
      }
      const header = decoded.jwt?.header;
      const payload = decoded.jwt?.payload;
      const kbHeader = decoded.kbJwt?.header;
      if (!header || !payload) return invalid("not an SD-JWT");
      if (header.alg !== ES256K || !ISSUER_TYPES.has(String(header.typ))) return invalid("issuer JWT alg or typ");
      if (typeof payload.iss !== "string") return invalid("untrusted issuer");
      let attestor: Awaited<ReturnType<AttestorDirectory["find"]>>;
      try {
        attestor = await attestors.find(payload.iss);
      } catch {
        return invalid("attestor records unavailable");
      }
      if (!attestor) return invalid("untrusted issuer");
      if (typeof payload.vct !== "string") return invalid("no vct");
      const statusList = isRecord(payload.status) ? payload.status.status_list : undefined;
      if ("status" in payload && (!isRecord(statusList) || !options.statusLists)) {
        return invalid(options.statusLists ? "unsupported status mechanism" : "status lists are not checked");
      }
      if (!kbHeader || kbHeader.alg !== ES256K) return invalid("no ES256K key-binding JWT");
      const holderJwk = isRecord(payload.cnf) ? payload.cnf.jwk : undefined;
      const holder = addressOfJwk(holderJwk);
      if (!holder || holder.toLowerCase() !== check.holderAddress.toLowerCase()) return invalid("wrong holder");

      const issuerKeys = attestor.keys;
      // The core verifier: the VC one would fetch and decode status lists itself, uncached.
      const sdjwt = new SDJwtInstance({
        hasher: sdJwtHasher,
        verifier: (data, signature) => verifyWithAcceptedKeys(issuerKeys, payload.iat, data, signature),
        kbVerifier: (data, signature) => verifyEs256k(holderJwk, data, signature),
      });
      let verified: Awaited<ReturnType<typeof sdjwt.verify>>;
      try {
        verified = await sdjwt.verify(check.presentation, {
          keyBindingNonce: check.nonce,
          currentDate: nowSeconds,
          skewSeconds: CLAIMS_CLOCK_SKEW_SECONDS,
        });
      } catch (error) {
        return invalid(error instanceof Error ? error.message : "verification failed");
      }
      const kb = verified.kb?.payload;
      if (!kb) return invalid("no key-binding JWT");
      if (kb.aud !== check.aud) return invalid("key-binding aud");
      if (
        typeof kb.iat !== "number" ||
        kb.iat > nowSeconds + CLAIMS_CLOCK_SKEW_SECONDS ||
        kb.iat < nowSeconds - KB_MAX_AGE_SECONDS
      ) {
        return invalid("key-binding iat");
      }
      if (!isRecord(verified.payload)) return invalid("no claims");
      if (isRecord(statusList) && options.statusLists) {
        const status = await options.statusLists.check({ attestor, uri: statusList.uri, idx: statusList.idx });
        if (!status.ok)
          return { ok: false, code: "claims_invalid", reason: status.detail, statusReason: status.reason };
      }

      // fromEntries defines own properties: a claim named `__proto__` stays a plain key.
      const claims: Record<string, unknown> = Object.fromEntries(
        Object.entries(verified.payload).filter(([name]) => !REGISTERED_CLAIMS.has(name)),
      );
      let disclosedKeys: Set<string>;
      try {
        disclosedKeys = new Set(await decoded.presentableKeys(sdJwtHasher));
      } catch {
        disclosedKeys = new Set();
      }
      const missing = check.requiredClaims.filter((path) => !isPathDisclosed(path, disclosedKeys, claims));
      if (missing.length > 0) return { ok: false, code: "claims_missing", reason: `missing ${missing.join(", ")}` };
      return { ok: true, claims };
    },
  };
}

export type PresentationVerifier = ReturnType<typeof createPresentationVerifier>;
