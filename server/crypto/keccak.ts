/**
 * Keccak-256 (Ethereum's, not SHA3-256) on the native sponge of the optional `keccak` package, with
 * @noble/hashes where that addon did not load.
 *
 * Rules:
 * - The addon's sponge class is used directly, through `keccak`'s own node-gyp-build: the package's public
 *   `keccak("keccak256")` builds a stream Transform per hash, which costs more than hashing a sign-in message.
 *   One sponge is reused; JavaScript runs one call at a time, so it is never shared by two hashes.
 * - The native sponge is used only after it reproduces the known empty-input digest; `keccakBackend` says
 *   which one runs (the startup log prints it).
 * - Both paths return a fresh 32-byte array the caller may keep.
 */
import { createRequire } from "node:module";
import { keccak_256 } from "@noble/hashes/sha3.js";

interface NativeSponge {
  initialize(rate: number, capacity: number): void;
  absorb(data: Buffer): void;
  squeeze(length: number): Buffer;
}

const EMPTY_DIGEST = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470";
// Keccak-256: rate 1088 bits, capacity 512 bits; the sponge pads with 0x01 when squeezed without a suffix.
const RATE = 1088;
const CAPACITY = 512;

function loadNativeSponge(): NativeSponge | undefined {
  try {
    const require = createRequire(import.meta.url);
    const packageJson = require.resolve("keccak/package.json");
    const packageDir = packageJson.slice(0, -"/package.json".length);
    const load = createRequire(packageJson)("node-gyp-build") as (dir: string) => unknown;
    const Sponge = load(packageDir) as new () => NativeSponge;
    if (typeof Sponge !== "function") return undefined;
    const sponge = new Sponge();
    sponge.initialize(RATE, CAPACITY);
    sponge.absorb(Buffer.alloc(0));
    return sponge.squeeze(32).toString("hex") === EMPTY_DIGEST ? sponge : undefined;
  } catch {
    return undefined;
  }
}

const sponge = loadNativeSponge();

export const keccakBackend: "native" | "js" = sponge ? "native" : "js";

function viewAsBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** keccak256 of `bytes`, on the native sponge where it loaded. */
export function keccak256(bytes: Uint8Array): Uint8Array {
  if (!sponge) return keccak_256(bytes);
  sponge.initialize(RATE, CAPACITY);
  sponge.absorb(viewAsBuffer(bytes));
  return sponge.squeeze(32);
}

/** keccak256 on @noble/hashes, whatever loaded: the reference the native path is tested against. */
export function keccak256Js(bytes: Uint8Array): Uint8Array {
  return keccak_256(bytes);
}
