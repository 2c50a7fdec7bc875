/*
 * Access tokens (docs/protocol.md section 1, "Access tokens").
 *
 * - JWT signed with the installation's ES256 key; header `typ: at+jwt` and `kid`.
 * - Claims iss, aud, sub (user id), address, iat, exp, jti. Lifetime at most
 *   MAX_ACCESS_TOKEN_TTL_SECONDS, enforced when issuing and again when verifying.
 * - `iat` must lie in the past (ISSUED_AT_SKEW_SECONDS of clock difference allowed) and no
 *   further back than the lifetime cap: a token signed with a future `iat` (a key briefly in
 *   the wrong hands, a clock far ahead) is refused, not accepted once that time arrives.
 * - Verification accepts exactly the alg of the key named by `kid`: no `none`, no HMAC
 *   with a public key as the secret, no key picked from the token itself.
 * - Verification never throws: every failure is `invalid_token`, with no detail that would
 *   help somebody probe the verifier.
 * - A verifier remembers the tokens it accepted (by SHA-256 of the token, at most
 *   `cacheSize`, oldest dropped first) until their `exp`: a browser presents the same token
 *   for every channel it joins and every API call, and the P-256 check is most of the cost
 *   of such a request. The expiry is checked on every use; refusals are never remembered.
 *   Tokens are stateless either way: nothing revokes one before its `exp`.
 */
import { createHash } from "node:crypto";
import { randomBase64url } from "../crypto/random";
import { SignJWT, jwtVerify } from "jose";
import type { JWTHeaderParameters, JWTPayload } from "jose";
import type { SigningKey } from "./keys";

export const ACCESS_TOKEN_TYPE = "at+jwt";
export const MAX_ACCESS_TOKEN_TTL_SECONDS = 15 * 60;
/** How far a token's `iat` may be ahead of this server's clock (nodes' clocks differ a little). */
export const ISSUED_AT_SKEW_SECONDS = 60;
// Ours are a few hundred characters; anything far longer is not worth parsing.
const MAX_TOKEN_LENGTH = 4096;

export type AccessTokenClaims = {
  iss: string;
  aud: string;
  sub: string;
  address: string;
  iat: number;
  exp: number;
  jti: string;
};

export type VerifyResult = { ok: true; claims: AccessTokenClaims } | { ok: false; code: "invalid_token" };

export type AccessTokenAudience = { issuer: string; audience: string };

export type IssueAccessTokenInput = AccessTokenAudience & {
  userId: string;
  address: string;
  ttlSeconds: number;
};

export async function issueAccessToken(
  key: SigningKey,
  { issuer, audience, userId, address, ttlSeconds }: IssueAccessTokenInput,
): Promise<{ token: string; expiresIn: number }> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds <= 0 || ttlSeconds > MAX_ACCESS_TOKEN_TTL_SECONDS) {
    throw new RangeError(`access token ttl must be an integer from 1 to ${MAX_ACCESS_TOKEN_TTL_SECONDS} seconds`);
  }
  const iat = Math.floor(Date.now() / 1000);
  const token = await new SignJWT({ address })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(userId)
    .setIssuedAt(iat)
    .setExpirationTime(iat + ttlSeconds)
    .setJti(randomBase64url(16))
    .sign(key.privateKey);
  return { token, expiresIn: ttlSeconds };
}

export const ACCESS_TOKEN_CACHE_SIZE = 10_000;

/** Builds the kid lookup once; the returned function is what `authorizeRequest` takes. */
export function createAccessTokenVerifier(
  keys: SigningKey[],
  audience: AccessTokenAudience,
  { cacheSize = ACCESS_TOKEN_CACHE_SIZE, now = () => Date.now() }: { cacheSize?: number; now?: () => number } = {},
): (token: string) => Promise<VerifyResult> {
  /** SHA-256 (base64url) of an accepted token -> its result; Map order is insertion order. */
  const accepted = new Map<string, VerifyResult & { ok: true }>();
  const keysById = new Map(keys.map((key) => [key.kid, key]));
  const algorithms = [...new Set(keys.map((key) => key.alg))];
  const resolveKey = (header: JWTHeaderParameters) => {
    const key = header.kid === undefined ? undefined : keysById.get(header.kid);
    if (key === undefined || header.alg !== key.alg) throw new Error("no key for this token");
    return key.publicKey;
  };
  return async (token) => {
    if (typeof token !== "string" || token.length > MAX_TOKEN_LENGTH) return INVALID;
    const cacheKey = cacheSize > 0 ? createHash("sha256").update(token).digest("base64url") : "";
    if (cacheSize > 0) {
      const known = accepted.get(cacheKey);
      if (known !== undefined) {
        if (known.claims.exp > now() / 1000) return known;
        accepted.delete(cacheKey);
        return INVALID;
      }
    }
    try {
      const { payload } = await jwtVerify(token, resolveKey, {
        algorithms,
        typ: ACCESS_TOKEN_TYPE,
        issuer: audience.issuer,
        audience: audience.audience,
        requiredClaims: ["iss", "aud", "sub", "iat", "exp", "jti"],
      });
      const claims = readClaims(payload);
      if (claims === undefined || !isIssuedInWindow(claims.iat, now() / 1000)) return INVALID;
      // Frozen: the same object is handed to every later caller of this token.
      const result = Object.freeze({ ok: true, claims: Object.freeze(claims) } as const);
      if (cacheSize > 0) {
        accepted.set(cacheKey, result);
        if (accepted.size > cacheSize) accepted.delete(accepted.keys().next().value as string);
      }
      return result;
    } catch {
      return INVALID;
    }
  };
}

export function verifyAccessToken(
  keys: SigningKey[],
  token: string,
  audience: AccessTokenAudience,
): Promise<VerifyResult> {
  return createAccessTokenVerifier(keys, audience, { cacheSize: 0 })(token);
}

/** Not ahead of now beyond the skew, and not older than the longest lifetime we issue. */
function isIssuedInWindow(iat: number, nowSeconds: number): boolean {
  return (
    iat <= nowSeconds + ISSUED_AT_SKEW_SECONDS &&
    nowSeconds - iat <= MAX_ACCESS_TOKEN_TTL_SECONDS + ISSUED_AT_SKEW_SECONDS
  );
}

const INVALID: VerifyResult = Object.freeze({ ok: false, code: "invalid_token" });

function readClaims(payload: JWTPayload): AccessTokenClaims | undefined {
  const { iss, aud, sub, iat, exp, jti } = payload;
  const address = payload["address"];
  if (
    typeof iss !== "string" ||
    typeof aud !== "string" ||
    typeof sub !== "string" ||
    sub === "" ||
    typeof address !== "string" ||
    typeof iat !== "number" ||
    typeof exp !== "number" ||
    typeof jti !== "string" ||
    // A token that claims a longer life than we ever issue was not made by us as we are now.
    exp - iat > MAX_ACCESS_TOKEN_TTL_SECONDS
  ) {
    return undefined;
  }
  return { iss, aud, sub, address, iat, exp, jti };
}
