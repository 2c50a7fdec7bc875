/**
 * ES256K (ECDSA on secp256k1 with SHA-256, RFC 8812) for the JWTs of verifiable claims
 * (docs/protocol.md section 4), and the link between a secp256k1 public JWK and an Ethereum address.
 *
 * Rules:
 * - Signatures are JWS's fixed 64-byte r || s in base64url. Verification accepts high-s too:
 *   JOSE does not require low-s, and other issuers' libraries may not normalise it.
 * - A JWK is accepted only as `{kty: "EC", crv: "secp256k1", x, y}` with 32-byte coordinates
 *   that lie on the curve; anything else is refused before any signature work.
 * - Runs in the browser as well as in Node (@noble only): the wallet page signs with it.
 */
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak_256 } from "@noble/hashes/sha3.js";
import { bytesToHex, hexToBytes } from "@noble/hashes/utils.js";
import { toChecksumAddress } from "../protocol/siwe";

export const ES256K = "ES256K";

export interface Secp256k1PublicJwk {
  kty: "EC";
  crv: "secp256k1";
  x: string;
  y: string;
}

export interface Secp256k1PrivateJwk extends Secp256k1PublicJwk {
  d: string;
}

const encoder = new TextEncoder();
const strip0x = (hex: string) => (hex.startsWith("0x") ? hex.slice(2) : hex);
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function base64urlEncode(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** The bytes of unpadded base64url text, or null when it is not that. */
export function base64urlDecode(text: string): Uint8Array | null {
  if (!BASE64URL.test(text) || text.length % 4 === 1) return null;
  const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/** The uncompressed point (0x04 || x || y) of a valid secp256k1 public JWK, or null. */
export function publicKeyFromJwk(jwk: unknown): Uint8Array | null {
  if (typeof jwk !== "object" || jwk === null) return null;
  const { kty, crv, x, y } = jwk as Record<string, unknown>;
  if (kty !== "EC" || crv !== "secp256k1" || typeof x !== "string" || typeof y !== "string") return null;
  const xBytes = base64urlDecode(x);
  const yBytes = base64urlDecode(y);
  if (xBytes?.length !== 32 || yBytes?.length !== 32) return null;
  const point = new Uint8Array(65);
  point[0] = 4;
  point.set(xBytes, 1);
  point.set(yBytes, 33);
  try {
    secp256k1.Point.fromBytes(point).assertValidity();
  } catch {
    return null;
  }
  return point;
}

/** The public JWK of a 32-byte private key given as hex (0x optional). */
export function publicJwkOf(privateKeyHex: string): Secp256k1PublicJwk {
  const point = secp256k1.getPublicKey(hexToBytes(strip0x(privateKeyHex)), false);
  return { kty: "EC", crv: "secp256k1", x: base64urlEncode(point.slice(1, 33)), y: base64urlEncode(point.slice(33)) };
}

/** A new private key as a JWK (the attestor's key). */
export function generatePrivateJwk(): Secp256k1PrivateJwk {
  const secretKey = secp256k1.utils.randomSecretKey();
  return { ...publicJwkOf(bytesToHex(secretKey)), d: base64urlEncode(secretKey) };
}

/** The 0x-prefixed hex of a private JWK's `d`. */
export function privateKeyHexOf(jwk: Secp256k1PrivateJwk): string {
  const d = base64urlDecode(jwk.d);
  if (d?.length !== 32) throw new Error("a secp256k1 private JWK's d is 32 bytes of base64url");
  return `0x${bytesToHex(d)}`;
}

/** EIP-55 address of the key in a public JWK (keccak-256 of x || y, last 20 bytes), or null when the JWK is not valid. */
export function addressOfJwk(jwk: unknown): string | null {
  const point = publicKeyFromJwk(jwk);
  if (!point) return null;
  return toChecksumAddress(`0x${bytesToHex(keccak_256(point.subarray(1)).subarray(12))}`);
}

/** The base64url ES256K signature of `data` (the JWS signing input). */
export function signEs256k(privateKeyHex: string, data: string): string {
  return base64urlEncode(secp256k1.sign(encoder.encode(data), hexToBytes(strip0x(privateKeyHex)), { prehash: true }));
}

/** Whether `signature` (base64url r || s) is a valid ES256K signature of `data` by the key in `jwk`. */
export function verifyEs256k(jwk: unknown, data: string, signature: string): boolean {
  const point = publicKeyFromJwk(jwk);
  const sig = base64urlDecode(signature);
  if (!point || sig?.length !== 64) return false;
  try {
    return secp256k1.verify(sig, encoder.encode(data), point, { prehash: true, lowS: false });
  } catch {
    return false;
  }
}
