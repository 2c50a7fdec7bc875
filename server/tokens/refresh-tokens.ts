/*
 * Refresh tokens (docs/protocol.md section 1: redeem, refresh, logout).
 *
 * - A token is 256 random bits, base64url. The database keeps only its SHA-256, so a
 *   leaked table cannot be replayed; lookups go by that hash.
 * - Single use: refreshing revokes the presented token with one conditional update
 *   (unrevoked and unexpired) and succeeds only when that update hit exactly one row, so of
 *   concurrent refreshes with the same token exactly one wins, on any number of nodes.
 * - Rotation within a family: the successor (same family) is written before that update and
 *   deleted if the update loses, so a family revocation triggered by the loser can never
 *   miss it, and no transaction holds a lock across round trips.
 * - Reuse detection: presenting a token that was already rotated out (or logged out)
 *   revokes its whole family, including the newest token, whoever holds it. Two tabs
 *   refreshing with the same token at once therefore end the session too; that is the
 *   price of detecting theft without a grace window.
 * - Lifetime: each token lives `ttlMs` from its issue; an expired token is refused without
 *   touching its family. Logout revokes the family of the presented token.
 * - The cookie carrying it is HttpOnly, SameSite=Lax, Path=/api/auth, Secure under https.
 */
import { createHash } from "node:crypto";
import { randomBase64url, timeOrderedId } from "../crypto/random";
import type { Db } from "../db/client";

export const REFRESH_COOKIE = "wl_refresh";
export const REFRESH_COOKIE_PATH = "/api/auth";

const TOKEN_BYTES = 32;
// base64url of TOKEN_BYTES, unpadded: anything else is refused before hashing or querying.
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type IssuedRefreshToken = { token: string; family: string; expiresAt: Date };

export type RotateResult =
  | { ok: true; token: string; family: string; userId: string; expiresAt: Date }
  | { ok: false; code: "invalid_token"; reuse?: boolean };

type RefreshTokenInsert = (row: { hash: string; family: string; expiresAt: Date; userId: string }) => Promise<unknown>;

/** `insert` defaults to Prisma; the login hot path passes its faster writer (server/db/login-writes.ts). */
export async function issueRefreshToken(
  db: Db,
  { userId, ttlMs, family }: { userId: string; ttlMs: number; family?: string },
  insert: RefreshTokenInsert = (row) => db.refreshToken.create({ data: row }),
): Promise<IssuedRefreshToken> {
  assertTtl(ttlMs);
  const token = randomBase64url(TOKEN_BYTES);
  const issued = {
    // Time-ordered: a new family lands at the end of its index (see timeOrderedId).
    family: family ?? timeOrderedId(),
    expiresAt: new Date(Date.now() + ttlMs),
  };
  await insert({ hash: hashRefreshToken(token), userId, ...issued });
  return { token, ...issued };
}

export async function rotateRefreshToken(db: Db, token: string, { ttlMs }: { ttlMs: number }): Promise<RotateResult> {
  assertTtl(ttlMs);
  if (!isWellFormedRefreshToken(token)) return { ok: false, code: "invalid_token" };
  const hash = hashRefreshToken(token);

  const presented = await db.refreshToken.findUnique({
    where: { hash },
    select: { family: true, userId: true, revokedAt: true, expiresAt: true },
  });
  if (presented === null) return { ok: false, code: "invalid_token" };
  if (presented.revokedAt !== null) return revokeOnReuse(db, presented.family);
  const now = new Date();
  if (presented.expiresAt <= now) return { ok: false, code: "invalid_token" };

  // The successor exists before the presented token is spent, so a reuse that a concurrent
  // loser detects (which can only happen after this spend) revokes it too.
  const successor = await issueRefreshToken(db, { userId: presented.userId, ttlMs, family: presented.family });
  const { count } = await db.refreshToken.updateMany({
    where: { hash, revokedAt: null, expiresAt: { gt: now } },
    data: { revokedAt: now },
  });
  if (count === 1) return { ok: true, userId: presented.userId, ...successor };

  // Lost to a concurrent refresh or logout since the read above.
  await db.refreshToken.deleteMany({ where: { hash: hashRefreshToken(successor.token) } });
  const current = await db.refreshToken.findUnique({ where: { hash }, select: { revokedAt: true } });
  if (current === null || current.revokedAt === null) return { ok: false, code: "invalid_token" };
  return revokeOnReuse(db, presented.family);
}

/** Logout. An unknown or malformed token is a no-op: logout always succeeds for the caller. */
export async function revokeRefreshFamily(db: Db, token: string): Promise<{ revoked: number }> {
  if (!isWellFormedRefreshToken(token)) return { revoked: 0 };
  const presented = await db.refreshToken.findUnique({
    where: { hash: hashRefreshToken(token) },
    select: { family: true },
  });
  if (presented === null) return { revoked: 0 };
  return { revoked: await revokeFamily(db, presented.family) };
}

export function hashRefreshToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

export function isWellFormedRefreshToken(token: unknown): token is string {
  return typeof token === "string" && TOKEN_PATTERN.test(token);
}

export function buildRefreshCookie(
  token: string,
  { secure, maxAgeSeconds }: { secure: boolean; maxAgeSeconds: number },
): string {
  // The value lands in a response header: never let anything but our own format through.
  if (!isWellFormedRefreshToken(token)) throw new TypeError("not a refresh token");
  if (!Number.isInteger(maxAgeSeconds) || maxAgeSeconds < 0) {
    throw new RangeError("cookie max age must be a non-negative integer");
  }
  return serializeCookie(token, maxAgeSeconds, secure);
}

export function buildClearRefreshCookie({ secure }: { secure: boolean }): string {
  return serializeCookie("", 0, secure);
}

/** The first well-formed `wl_refresh` value in a Cookie header, if any. */
export function readRefreshCookie(cookieHeader: string | undefined | null): string | undefined {
  if (typeof cookieHeader !== "string") return undefined;
  for (const pair of cookieHeader.split(";")) {
    const separator = pair.indexOf("=");
    if (separator === -1 || pair.slice(0, separator).trim() !== REFRESH_COOKIE) continue;
    const value = pair.slice(separator + 1).trim();
    if (isWellFormedRefreshToken(value)) return value;
  }
  return undefined;
}

async function revokeOnReuse(db: Db, family: string): Promise<RotateResult> {
  await revokeFamily(db, family);
  return { ok: false, code: "invalid_token", reuse: true };
}

async function revokeFamily(db: Db, family: string): Promise<number> {
  const { count } = await db.refreshToken.updateMany({
    where: { family, revokedAt: null },
    data: { revokedAt: new Date() },
  });
  return count;
}

function serializeCookie(value: string, maxAgeSeconds: number, secure: boolean): string {
  const attributes = [
    `${REFRESH_COOKIE}=${value}`,
    `Path=${REFRESH_COOKIE_PATH}`,
    `Max-Age=${maxAgeSeconds}`,
    "HttpOnly",
    "SameSite=Lax",
  ];
  if (secure) attributes.push("Secure");
  return attributes.join("; ");
}

function assertTtl(ttlMs: number): void {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) throw new RangeError("refresh token ttl must be a positive number");
}
