/**
 * secp256k1 public-key recovery for Ethereum signatures, with two interchangeable backends.
 *
 * Rules:
 * - Backends: "native" is libsecp256k1 through the `secp256k1` package's N-API addon (loaded from
 *   `secp256k1/bindings`, never the package root, whose silent fallback is the slow `elliptic` JS code);
 *   "js" is @noble/curves. "auto" prefers native.
 * - A backend is used only after it passes a known-answer self-test (a signature made once with ethers and
 *   hard-coded below). In "auto", a native addon that loads but fails the test is dropped for js and the
 *   reason is kept in `fallbackReason` for the startup log; asking for "native" explicitly throws instead.
 * - Both backends see the same inputs because the checks live here, in front of them:
 *   - v must be 27/28 or 0/1. ethers also maps EIP-155 values (>= 35) to a parity; personal_sign never
 *     produces them, so they are refused.
 *   - r must be in [1, n-1] and s in [1, n/2] (EIP-2 low-s). ethers v6 refuses s only when its top bit is
 *     set (s >= 2^255); that already refuses the high twin (n - s) of every wallet-produced signature except
 *     for a ~2^-127 sliver just above n/2, which we refuse too. Refusing high-s makes signatures
 *     non-malleable, so a replay cache keyed by signature cannot be dodged by flipping s.
 * - recoverAddress never throws on bad input: it returns null, and a valid signature over other data
 *   simply recovers another address, which callers compare with the expected one.
 * - Keccak-256 comes from ./keccak (native sponge, @noble/hashes otherwise): Node 20's OpenSSL 3.0 exposes SHA3
 *   but not Keccak (different padding) and the secp256k1 addon has none. The native sponge is the faster
 *   (bench/README.md, "Figures behind choices in the source"; the recovery section measures the whole path).
 */
import { createRequire } from "node:module";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { keccak256 } from "./keccak";

export type SignatureBackend = "native" | "js";

export interface SignatureVerifier {
  backend: SignatureBackend;
  /** EIP-55 checksummed address that signed the 32-byte digest, or null when the signature is invalid. */
  recoverAddress(digest: Uint8Array, signature: Uint8Array): string | null;
  /** Set when "auto" wanted native but could not use it: why (for the startup log). */
  fallbackReason?: string;
}

/** The part of the `secp256k1` package's API used here. */
export interface NativeSecp256k1 {
  ecdsaRecover(signature: Uint8Array, recid: number, msg32: Uint8Array, compressed: boolean): Uint8Array;
}

export interface CreateSignatureVerifierOptions {
  /** Loads the native addon; tests replace it. Returns null or throws when it is unavailable. */
  loadNative?: () => NativeSecp256k1 | null;
}

// Curve order n and n/2 (rounded down), big-endian, for byte-wise range checks without BigInt.
const CURVE_ORDER = hexToBytes("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
const HALF_CURVE_ORDER = hexToBytes("7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0");

// Known answer, made once with ethers 6: Wallet("0x4c11...11").signMessageSync(SELF_TEST_MESSAGE).
const SELF_TEST_MESSAGE = "wallet-login secp256k1 self-test";
const SELF_TEST_DIGEST = "32ca35ddd5ce3fabbd1cacf2cc6b88d0b5a84e0ba2bac2ca13b8d56f76bed156";
const SELF_TEST_SIGNATURE =
  "2d95091a186a180242675fd187b9804b6c54f13e4bfd1ecc0d0387eb8767d547" +
  "6ab54c97184b45cbae55c4dc7bdba79918d9fa15dc0cf4a118c05b78569a687f1b";
const SELF_TEST_ADDRESS = "0xb11dd42dd798F7e69A9A93AB06b5AA6b247aE157";

/** Exposed so tests can check the vector against eip191 and ethers. */
export const SELF_TEST_VECTOR = {
  message: SELF_TEST_MESSAGE,
  digestHex: SELF_TEST_DIGEST,
  signatureHex: SELF_TEST_SIGNATURE,
  address: SELF_TEST_ADDRESS,
} as const;

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Big-endian compare of the 32 bytes at `offset` with `limit`: negative, zero or positive. */
function compare32(bytes: Uint8Array, offset: number, limit: Uint8Array): number {
  for (let i = 0; i < 32; i++) {
    const diff = (bytes[offset + i] ?? 0) - (limit[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return 0;
}

function isZero32(bytes: Uint8Array, offset: number): boolean {
  for (let i = 0; i < 32; i++) if (bytes[offset + i] !== 0) return false;
  return true;
}

/** Recovery id (0/1) of a well-formed low-s signature, or null. */
function checkSignature(digest: Uint8Array, signature: Uint8Array): number | null {
  if (!(digest instanceof Uint8Array) || digest.length !== 32) return null;
  if (!(signature instanceof Uint8Array) || signature.length !== 65) return null;
  const v = signature[64];
  const recid = v === 27 || v === 28 ? v - 27 : v === 0 || v === 1 ? v : null;
  if (recid === null) return null;
  if (isZero32(signature, 0) || compare32(signature, 0, CURVE_ORDER) >= 0) return null;
  if (isZero32(signature, 32) || compare32(signature, 32, HALF_CURVE_ORDER) > 0) return null;
  return recid;
}

const HEX_DIGITS = "0123456789abcdef";

/**
 * EIP-55 address of a 65-byte uncompressed public key (0x04 || X || Y): the last 20 bytes of
 * keccak256(X || Y), with letters upper-cased where keccak256 of the lowercase hex has a nibble >= 8.
 * Works on bytes rather than calling toChecksumAddress, whose string checks cost more than the hashing.
 */
function toAddress(uncompressedPublicKey: Uint8Array): string {
  const hash = keccak256(uncompressedPublicKey.subarray(1));
  const ascii = new Uint8Array(40);
  for (let i = 0; i < 20; i++) {
    const byte = hash[12 + i] ?? 0;
    ascii[2 * i] = HEX_DIGITS.charCodeAt(byte >> 4);
    ascii[2 * i + 1] = HEX_DIGITS.charCodeAt(byte & 15);
  }
  const checksum = keccak256(ascii);
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const code = ascii[i] ?? 0;
    const nibble = ((checksum[i >> 1] ?? 0) >> (i % 2 === 0 ? 4 : 0)) & 15;
    // Only a-f (char codes above "9") have an upper case.
    out += String.fromCharCode(code > 57 && nibble >= 8 ? code - 32 : code);
  }
  return out;
}

function createJsVerifier(): SignatureVerifier {
  return {
    backend: "js",
    recoverAddress(digest, signature) {
      const recid = checkSignature(digest, signature);
      if (recid === null) return null;
      try {
        // noble's "recovered" layout puts the recovery byte first.
        const recovered = new Uint8Array(65);
        recovered[0] = recid;
        recovered.set(signature.subarray(0, 64), 1);
        const point = secp256k1.Signature.fromBytes(recovered, "recovered").recoverPublicKey(digest);
        return toAddress(point.toBytes(false));
      } catch {
        return null;
      }
    },
  };
}

function createNativeVerifier(native: NativeSecp256k1): SignatureVerifier {
  return {
    backend: "native",
    recoverAddress(digest, signature) {
      const recid = checkSignature(digest, signature);
      if (recid === null) return null;
      try {
        return toAddress(native.ecdsaRecover(signature.subarray(0, 64), recid, digest, false));
      } catch {
        return null;
      }
    },
  };
}

function loadNativeAddon(): NativeSecp256k1 | null {
  // A variable specifier keeps bundlers from trying to pack the .node addon.
  const specifier = "secp256k1/bindings";
  const require = createRequire(import.meta.url);
  const addon = require(specifier) as NativeSecp256k1;
  return typeof addon.ecdsaRecover === "function" ? addon : null;
}

/** Why `verifier` fails the known-answer test, or null when it passes. */
export function runSelfTest(verifier: SignatureVerifier): string | null {
  try {
    const digest = hexToBytes(SELF_TEST_DIGEST);
    const signature = hexToBytes(SELF_TEST_SIGNATURE);
    const address = verifier.recoverAddress(digest, signature);
    if (address !== SELF_TEST_ADDRESS) return `recovered ${String(address)} instead of the known address`;
    // A backend that ignores its input (or the digest) must not pass.
    const tampered = digest.slice();
    tampered[0] = (tampered[0] ?? 0) ^ 1;
    if (verifier.recoverAddress(tampered, signature) === SELF_TEST_ADDRESS) return "accepted a tampered digest";
    return null;
  } catch (error) {
    return `threw: ${error instanceof Error ? error.message : String(error)}`;
  }
}

/**
 * A self-tested verifier. "auto": native when it loads and passes, else js (with `fallbackReason`);
 * "native": throws unless native loads and passes; "js": the pure-JS backend.
 */
export async function createSignatureVerifier(
  preference: "auto" | "native" | "js" = "auto",
  options: CreateSignatureVerifierOptions = {},
): Promise<SignatureVerifier> {
  let fallbackReason: string | undefined;
  if (preference !== "js") {
    let native: NativeSecp256k1 | null = null;
    try {
      native = (options.loadNative ?? loadNativeAddon)();
      if (!native) fallbackReason = "native secp256k1 addon not available";
    } catch (error) {
      fallbackReason = `native secp256k1 addon did not load: ${error instanceof Error ? error.message : String(error)}`;
    }
    if (native) {
      const verifier = createNativeVerifier(native);
      const failure = runSelfTest(verifier);
      if (failure === null) return verifier;
      fallbackReason = `native secp256k1 failed its self-test: ${failure}`;
    }
    if (preference === "native") throw new Error(fallbackReason ?? "native secp256k1 unavailable");
  }
  const verifier = createJsVerifier();
  const failure = runSelfTest(verifier);
  if (failure !== null) throw new Error(`js secp256k1 failed its self-test: ${failure}`);
  if (fallbackReason !== undefined) verifier.fallbackReason = fallbackReason;
  return verifier;
}
