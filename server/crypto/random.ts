/**
 * Random identifiers, hashing and comparison for secrets.
 *
 * Rules:
 * - Every random value comes from the OS CSPRNG (node:crypto), never Math.random.
 * - Small draws come from a pool filled by one randomFillSync call and handed out once each, as
 *   Node's own crypto.randomUUID does: a randomBytes call per value costs about 2 us (a native job
 *   object, and async-hook callbacks once any AsyncLocalStorage is in use, as Next's is), the pool
 *   about 0.3 us, and the login path draws six to eight values. No byte is ever handed out twice.
 * - Choices over an alphabet or a range are unbiased: rejection sampling, or crypto.randomInt which does it.
 * - Secrets (browser secrets, codes) are stored only as SHA-256 and compared in constant time; the
 *   comparison also hides the length of the expected value.
 */
import { hash, randomBytes, randomFillSync, randomInt, timingSafeEqual } from "node:crypto";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
// Largest multiple of the alphabet size that fits in a byte: bytes at or above it are dropped, not folded.
const ALPHANUMERIC_LIMIT = 256 - (256 % ALPHANUMERIC.length);

const POOL_SIZE = 4096;
const MAX_POOLED_DRAW = 256;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let poolOffset = POOL_SIZE;

/**
 * The next `bytes` (at most MAX_POOLED_DRAW) bytes of the pool, as a view: read it before the
 * next draw, which may refill the pool under it.
 */
function drawFromPool(bytes: number): Buffer {
  if (poolOffset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const start = poolOffset;
  poolOffset += bytes;
  return pool.subarray(start, poolOffset);
}

/** `bytes` random bytes: from the pool when small (read them at once, see drawFromPool). */
function drawRandom(bytes: number): Buffer {
  return bytes > MAX_POOLED_DRAW ? randomBytes(bytes) : drawFromPool(bytes);
}

/** `bytes` random bytes, base64url without padding. */
export function randomBase64url(bytes: number): string {
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError("bytes must be a non-negative integer");
  return drawRandom(bytes).toString("base64url");
}

const ID_COUNTER_LIMIT = 36 ** 4;
let idCounter = 0;

/**
 * An identifier whose text sorts by creation time: "c", the milliseconds since 1970 in 9 base-36
 * digits, a per-process counter in 4, then 9 random bytes (72 bits, so two processes never clash).
 * Database keys made this way are appended at the end of their indexes instead of landing on a
 * random page of each: with random keys every batch of logins dirtied a page per row and index,
 * and the SQLite WAL written per login grew with the table (measured: 77 -> 137 us of CPU per
 * login's writes over 90,000 logins, against a flat 61-65 us with these).
 */
export function timeOrderedId(now: number = Date.now()): string {
  idCounter = (idCounter + 1) % ID_COUNTER_LIMIT;
  return `c${now.toString(36).padStart(9, "0")}${idCounter.toString(36).padStart(4, "0")}${randomBase64url(9)}`;
}

/** `length` characters of [A-Za-z0-9], each uniform (log2(62) ~ 5.95 bits per character). */
export function randomAlphanumeric(length: number): string {
  if (!Number.isInteger(length) || length < 0) throw new RangeError("length must be a non-negative integer");
  let out = "";
  while (out.length < length) {
    // A quarter extra covers the ~3% rejected bytes in one draw almost always.
    for (const byte of drawRandom(Math.ceil((length - out.length) * 1.25) + 4)) {
      if (byte >= ALPHANUMERIC_LIMIT) continue;
      out += ALPHANUMERIC[byte % ALPHANUMERIC.length];
      if (out.length === length) break;
    }
  }
  return out;
}

/** SHA-256 of the UTF-8 text, base64url: how secrets are stored. */
export function sha256Base64url(text: string): string {
  return hash("sha256", text, "base64url");
}

/**
 * Constant-time string equality. Both sides are hashed first so that inputs of different lengths neither
 * throw (as timingSafeEqual does) nor return early and reveal the expected length.
 */
export function timingSafeEqualString(a: string, b: string): boolean {
  // crypto.hash: one call, no Hash object (cheaper than createHash for values this short).
  return timingSafeEqual(hash("sha256", a, "buffer"), hash("sha256", b, "buffer"));
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
