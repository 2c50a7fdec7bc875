/**
 * Random identifiers, hashing and comparison for secrets.
 *
 * Rules:
 * - Every random value comes from the OS CSPRNG (node:crypto), never Math.random.
 * - Choices over an alphabet or a range are unbiased: rejection sampling, or crypto.randomInt which does it.
 * - Secrets (browser secrets, codes) are stored only as SHA-256 and compared in constant time; the
 *   comparison also hides the length of the expected value.
 */
import { createHash, randomBytes, randomInt, timingSafeEqual } from "node:crypto";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// Largest multiple of the alphabet size that fits in a byte: bytes at or above it are dropped, not folded.
const ALPHANUMERIC_LIMIT = 256 - (256 % ALPHANUMERIC.length);

/** `bytes` random bytes, base64url without padding. */
export function randomBase64url(bytes: number): string {
  return randomBytes(bytes).toString("base64url");
}

/** `length` characters of [A-Za-z0-9], each uniform (log2(62) ~ 5.95 bits per character). */
export function randomAlphanumeric(length: number): string {
  if (!Number.isInteger(length) || length < 0) throw new RangeError("length must be a non-negative integer");
  let out = "";
  while (out.length < length) {
    // A quarter extra covers the ~3% rejected bytes in one draw almost always.
    const pool = randomBytes(Math.ceil((length - out.length) * 1.25) + 4);
    for (const byte of pool) {
      if (byte >= ALPHANUMERIC_LIMIT) continue;
      out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** SHA-256 of the UTF-8 text, base64url: how secrets are stored. */
export function sha256Base64url(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64url");
}

/**
 * Constant-time string equality. Both sides are hashed first so that inputs of different lengths neither
 * throw (as timingSafeEqual does) nor return early and reveal the expected length.
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  const digestA = createHash("sha256").update(a, "utf8").digest();
  const digestB = createHash("sha256").update(b, "utf8").digest();
  return timingSafeEqual(digestA, digestB);
}

/**
 * Three distinct two-digit codes ("10".."99") in random order, and which one the browser shows. Drawing
 * without replacement with randomInt makes every ordered triple equally likely.
 */
export function generateMatchChoices(): { matchCode: string; matchChoices: string[] } {
  const codes: number[] = [];
  while (codes.length < 3) {
    const code = randomInt(10, 100);
    if (!codes.includes(code)) codes.push(code);
  }
  const matchChoices = codes.map(String);
  const matchCode = matchChoices[randomInt(3)];
  if (matchCode === undefined) throw new Error("unreachable: index out of range");
  return { matchCode, matchChoices };
}
