/*
 * Bearer authorization for protected routes (docs/protocol.md section 1, RFC 6750).
 *
 * - Only `Authorization: Bearer <token68>` is read; tokens in query strings or bodies are
 *   never looked at.
 * - Every failure (no header, another scheme, a malformed or bad token) is the same 401
 *   `invalid_token`, so the answer says nothing about which check failed. Whether a valid
 *   token grants the resource (403) is the route's decision, not this module's.
 * - No framework types: a Hono middleware, a Socket.IO handshake or a Next page can all
 *   call it with a header string and a verifier.
 */
import type { AccessTokenClaims, VerifyResult } from "./access-tokens";

export const INVALID_TOKEN_CHALLENGE = 'Bearer error="invalid_token"';

export type AuthorizeResult<Claims = AccessTokenClaims> =
  | { ok: true; claims: Claims }
  | { ok: false; status: 401; code: "invalid_token"; wwwAuthenticate: typeof INVALID_TOKEN_CHALLENGE };

/** `createAccessTokenVerifier(...)` fits; so does any verifier with the same result shape. */
export type TokenVerifier<Claims = AccessTokenClaims> = (
  token: string,
) => Promise<{ ok: true; claims: Claims } | { ok: false; code: VerifyFailure["code"] }>;

type VerifyFailure = Extract<VerifyResult, { ok: false }>;

// RFC 6750 section 2.1: the scheme is case-insensitive, the credentials are token68.
const BEARER = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;
const MAX_HEADER_LENGTH = 8192;

export async function authorizeRequest<Claims = AccessTokenClaims>(
  authorizationHeader: string | undefined | null,
  verifier: TokenVerifier<Claims>,
): Promise<AuthorizeResult<Claims>> {
  const token = readBearerToken(authorizationHeader);
  if (token === undefined) return UNAUTHORIZED;
  const result = await verifier(token);
  return result.ok ? { ok: true, claims: result.claims } : UNAUTHORIZED;
}

export function readBearerToken(authorizationHeader: string | undefined | null): string | undefined {
  if (typeof authorizationHeader !== "string" || authorizationHeader.length > MAX_HEADER_LENGTH) return undefined;
  return BEARER.exec(authorizationHeader)?.[1];
}

const UNAUTHORIZED = Object.freeze({
  ok: false,
  status: 401,
  code: "invalid_token",
  wwwAuthenticate: INVALID_TOKEN_CHALLENGE,
} as const);
