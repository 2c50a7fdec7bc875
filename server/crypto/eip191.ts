/**
 * EIP-191 personal_sign ("\x19Ethereum Signed Message:\n" + length + message) hashing and recovery.
 *
 * Rules:
 * - The length is the message's UTF-8 byte length in decimal, as wallets and ethers compute it.
 * - Signatures are exactly 0x + 65 bytes of hex; anything else is refused before any curve work.
 * - Recovery returns the checksummed signer or null; the caller compares it with the expected address.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { keccak256 } from "./keccak";
import type { SignatureVerifier } from "./secp256k1";

export { keccakBackend } from "./keccak";

const PREFIX = "\x19Ethereum Signed Message:\n";
const SIGNATURE_HEX_RE = /^0x[0-9a-fA-F]{130}$/;
const encoder = new TextEncoder();

/**
 * keccak256 of the EIP-191 version 0x45 envelope around the UTF-8 text. The envelope is built as one string
 * and encoded once: the prefix and the decimal length are ASCII, so their UTF-8 bytes are their characters.
 */
export function hashPersonalMessage(text: string): Uint8Array {
  return keccak256(Buffer.from(`${PREFIX}${Buffer.byteLength(text, "utf8")}${text}`, "utf8"));
}

/** The same on @noble/hashes alone, encoded in two parts: the reference the fast path is tested against. */
export function hashPersonalMessageJs(text: string): Uint8Array {
  const body = encoder.encode(text);
  return keccak_256
    .create()
    .update(encoder.encode(`${PREFIX}${body.length}`))
    .update(body)
    .digest();
}

/** The 65 bytes (r, s, v) of a 0x-prefixed hex signature, or null when it is not exactly that. */
export function parseSignatureHex(hex: string): Uint8Array | null {
  if (typeof hex !== "string" || !SIGNATURE_HEX_RE.test(hex)) return null;
  return Uint8Array.from(Buffer.from(hex.slice(2), "hex"));
}

/** Checksummed address that personal_signed `text`, or null for a malformed or invalid signature. */
export function recoverPersonalSign(verifier: SignatureVerifier, text: string, signatureHex: string): string | null {
  const signature = parseSignatureHex(signatureHex);
  if (!signature) return null;
  return verifier.recoverAddress(hashPersonalMessage(text), signature);
}

/** 0x-prefixed lowercase hex. */
export function toHex(bytes: Uint8Array): string {
  return `0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex")}`;
}
