/**
 * EIP-191 personal_sign ("\x19Ethereum Signed Message:\n" + length + message) hashing and recovery.
 *
 * Rules:
 * - The length is the message's UTF-8 byte length in decimal, as wallets and ethers compute it.
 * - Signatures are exactly 0x + 65 bytes of hex; anything else is refused before any curve work.
 * - Recovery returns the checksummed signer or null; the caller compares it with the expected address.
 */
import { createRequire } from "node:module";
import { keccak_256 } from "@noble/hashes/sha3.js";
import type { SignatureVerifier } from "./secp256k1";

const PREFIX = "\x19Ethereum Signed Message:\n";
const SIGNATURE_HEX_RE = /^0x[0-9a-fA-F]{130}$/;
const encoder = new TextEncoder();

type NativeKeccak = (algorithm: "keccak256") => { update(data: Buffer): { digest(): Buffer } };

/**
 * The native Keccak of the optional `keccak` package hashes a sign-in message (~400
 * bytes) about 4x faster than @noble/hashes; the pure-JS one is used where it did not load.
 */
function loadNativeKeccak(): NativeKeccak | undefined {
  try {
    const hash = createRequire(import.meta.url)("keccak/bindings") as NativeKeccak;
    const probe = hash("keccak256").update(Buffer.alloc(0)).digest().toString("hex");
    return probe === "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470" ? hash : undefined;
  } catch {
    return undefined;
  }
}
const nativeKeccak = loadNativeKeccak();

/** keccak256 of the EIP-191 version 0x45 envelope around the UTF-8 text (native where it loaded). */
export function hashPersonalMessage(text: string): Uint8Array {
  return nativeKeccak ? hashPersonalMessageNative(nativeKeccak, text) : hashPersonalMessageJs(text);
}

function hashPersonalMessageNative(hash: NativeKeccak, text: string): Uint8Array {
  const body = Buffer.from(text, "utf8");
  return hash("keccak256")
    .update(Buffer.concat([Buffer.from(`${PREFIX}${body.length}`, "utf8"), body]))
    .digest();
}

export function hashPersonalMessageJs(text: string): Uint8Array {
  const body = encoder.encode(text);
  return keccak_256
    .create()
    .update(encoder.encode(`${PREFIX}${body.length}`))
    .update(body)
    .digest();
}

export const keccakBackend: "native" | "js" = nativeKeccak ? "native" : "js";

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
