/**
 * A wallet's proof of its key to the attestor (docs/protocol.md section 6): a compact JWS, ES256K,
 * whose header carries the wallet's public secp256k1 JWK, the key that signed it.
 *
 * Rules:
 * - The header is exactly {alg: ES256K, typ, jwk}; the JWK must be a valid point (checked before
 *   any signature work). `typ` names what is proven, so a proof for a channel is not one for a request.
 * - Freshness is the verifier's: a request proof carries a single-use challenge `nonce`, a
 *   channel proof the socket id it subscribes (which only that socket can use).
 * - Browser-safe (@noble via ./es256k).
 */
import { calculateJwkThumbprint } from "jose";
import {
  ES256K,
  base64urlDecode,
  base64urlEncode,
  publicJwkOf,
  publicKeyFromJwk,
  signEs256k,
  verifyEs256k,
  type Secp256k1PublicJwk,
} from "./es256k";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const encodeJson = (value: unknown) => base64urlEncode(encoder.encode(JSON.stringify(value)));

/** A proof signed by `privateKeyHex`: header {alg, typ, jwk}, the given payload. */
export function signWalletProof(privateKeyHex: string, typ: string, payload: Record<string, unknown>): string {
  const header = { alg: ES256K, typ, jwk: publicJwkOf(privateKeyHex) };
  const input = `${encodeJson(header)}.${encodeJson(payload)}`;
  return `${input}.${signEs256k(privateKeyHex, input)}`;
}

export type WalletProofResult = { ok: true; jwk: Secp256k1PublicJwk; payload: unknown } | { ok: false; reason: string };

function parseJsonPart(part: string): unknown {
  const bytes = base64urlDecode(part);
  if (!bytes) return undefined;
  try {
    return JSON.parse(decoder.decode(bytes)) as unknown;
  } catch {
    return undefined;
  }
}

/** The signer's JWK and the (unchecked) payload of a proof of type `typ`, when its signature holds. */
export function verifyWalletProof(proof: string, typ: string): WalletProofResult {
  const parts = proof.split(".");
  if (parts.length !== 3) return { ok: false, reason: "not a compact JWS" };
  const [headerPart, payloadPart, signature] = parts as [string, string, string];
  const header = parseJsonPart(headerPart) as Record<string, unknown> | undefined;
  if (typeof header !== "object" || header === null) return { ok: false, reason: "header" };
  if (header.alg !== ES256K || header.typ !== typ || Object.keys(header).length !== 3) {
    return { ok: false, reason: "header alg, typ or extra members" };
  }
  if (!publicKeyFromJwk(header.jwk)) return { ok: false, reason: "header jwk" };
  const { x, y } = header.jwk as Secp256k1PublicJwk;
  const jwk: Secp256k1PublicJwk = { kty: "EC", crv: "secp256k1", x, y };
  if (!verifyEs256k(jwk, `${headerPart}.${payloadPart}`, signature)) return { ok: false, reason: "signature" };
  const payload = parseJsonPart(payloadPart);
  if (payload === undefined) return { ok: false, reason: "payload" };
  return { ok: true, jwk, payload };
}

/** RFC 7638 thumbprint (SHA-256, base64url) of a secp256k1 public JWK: the wallet's channel name. */
export function thumbprintOf(jwk: Secp256k1PublicJwk): Promise<string> {
  return calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }, "sha256");
}
