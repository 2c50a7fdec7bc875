import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "../db/client";
import type { Db, DbHandle } from "../db/client";
import { migrateDatabase } from "../db/migrate";
import {
  REFRESH_COOKIE,
  buildClearRefreshCookie,
  buildRefreshCookie,
  hashRefreshToken,
  issueRefreshToken,
  readRefreshCookie,
  revokeRefreshFamily,
  rotateRefreshToken,
} from "./refresh-tokens";

const ttlMs = 30 * 24 * 3600 * 1000;
const invalid = { ok: false, code: "invalid_token" };

describe("refresh tokens (SQLite)", () => {
  let dataDir: string;
  let url: string;
  let handle: DbHandle;
  let db: Db;
  let userId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "wl-rt-"));
    url = `file:${path.join(dataDir, "test.db")}`;
    await migrateDatabase({ url });
    handle = await createDb({ url });
    db = handle.prisma;
    ({ id: userId } = await db.user.create({ data: { address: "0x52908400098527886E0F7030069857D2E4169EE7" } }));
  });
  afterAll(async () => {
    await handle?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  const rotate = (token: string) => rotateRefreshToken(db, token, { ttlMs });
  const rowsOf = (family: string) => db.refreshToken.findMany({ where: { family } });

  it("issues 256-bit tokens and stores only their SHA-256", async () => {
    const before = Date.now();
    const issued = await issueRefreshToken(db, { userId, ttlMs });
    expect(issued.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(issued.token, "base64url")).toHaveLength(32);
    // Time-ordered (timeOrderedId), so new families append to their index.
    expect(issued.family).toMatch(/^c[0-9a-z]{13}[A-Za-z0-9_-]{12}$/);
    expect(issued.expiresAt.getTime()).toBeGreaterThanOrEqual(before + ttlMs);
    expect(issued.expiresAt.getTime()).toBeLessThanOrEqual(Date.now() + ttlMs);

    const [row, ...others] = await rowsOf(issued.family);
    expect(others).toHaveLength(0);
    expect(row?.hash).toBe(hashRefreshToken(issued.token));
    expect(Object.values(row ?? {}).map(String)).not.toContain(issued.token);
    expect((await issueRefreshToken(db, { userId, ttlMs })).family).not.toBe(issued.family);
  });

  it("rotates within the family, single use", async () => {
    const first = await issueRefreshToken(db, { userId, ttlMs });
    const second = await rotate(first.token);
    expect(second).toMatchObject({ ok: true, family: first.family, userId });
    if (!second.ok) return;
    expect(second.token).not.toBe(first.token);
    expect(second.expiresAt.getTime()).toBeGreaterThan(Date.now());

    const third = await rotate(second.token);
    expect(third).toMatchObject({ ok: true, family: first.family, userId });
    const rows = await rowsOf(first.family);
    expect(rows).toHaveLength(3);
    expect(rows.filter((row) => row.revokedAt === null)).toHaveLength(1);
  });

  it("revokes the whole family when a rotated-out token comes back", async () => {
    const first = await issueRefreshToken(db, { userId, ttlMs });
    const second = await rotate(first.token);
    if (!second.ok) throw new Error("rotation failed");
    const newest = await rotate(second.token);
    if (!newest.ok) throw new Error("rotation failed");
    const bystander = await issueRefreshToken(db, { userId, ttlMs });

    expect(await rotate(first.token)).toEqual({ ...invalid, reuse: true });
    // The newest token of the family, whoever holds it, stops working too.
    expect(await rotate(newest.token)).toMatchObject(invalid);
    expect((await rowsOf(first.family)).every((row) => row.revokedAt !== null)).toBe(true);
    // Other sessions of the same user are untouched.
    expect((await rotate(bystander.token)).ok).toBe(true);
  });

  it("refuses an expired token without revoking its family", async () => {
    const issued = await issueRefreshToken(db, { userId, ttlMs });
    await db.refreshToken.update({
      where: { hash: hashRefreshToken(issued.token) },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    expect(await rotate(issued.token)).toEqual(invalid);
    expect((await rowsOf(issued.family))[0]?.revokedAt).toBeNull();
  });

  it("refuses unknown and malformed tokens", async () => {
    const unknown = Buffer.alloc(32, 7).toString("base64url");
    for (const token of [unknown, "", "short", `${unknown}x`, "a".repeat(42) + "!", 42 as unknown as string]) {
      expect(await rotate(token)).toEqual(invalid);
    }
  });

  it("logout revokes the family of the presented token; unknown tokens are a no-op", async () => {
    const first = await issueRefreshToken(db, { userId, ttlMs });
    const current = await rotate(first.token);
    if (!current.ok) throw new Error("rotation failed");
    const other = await issueRefreshToken(db, { userId, ttlMs });

    expect(await revokeRefreshFamily(db, current.token)).toEqual({ revoked: 1 });
    expect(await rotate(current.token)).toMatchObject(invalid);
    expect((await rowsOf(first.family)).every((row) => row.revokedAt !== null)).toBe(true);
    expect((await rotate(other.token)).ok).toBe(true);

    expect(await revokeRefreshFamily(db, Buffer.alloc(32, 9).toString("base64url"))).toEqual({ revoked: 0 });
    expect(await revokeRefreshFamily(db, "not a token")).toEqual({ revoked: 0 });
    // A second logout with the same cookie is harmless.
    expect(await revokeRefreshFamily(db, current.token)).toEqual({ revoked: 0 });
  });

  it("lets exactly one of many concurrent rotations of one token win", async () => {
    const issued = await issueRefreshToken(db, { userId, ttlMs });
    const results = await Promise.all(Array.from({ length: 8 }, () => rotate(issued.token)));
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    // The losers look like reuse, so the family (the winner's successor too) is revoked.
    expect(results.filter((result) => !result.ok && result.reuse)).toHaveLength(7);
    expect((await rowsOf(issued.family)).every((row) => row.revokedAt !== null)).toBe(true);
  });

  it("lets exactly one win across two connections to the same database", async () => {
    const second = await createDb({ url });
    try {
      for (let round = 0; round < 5; round++) {
        const issued = await issueRefreshToken(db, { userId, ttlMs });
        const results = await Promise.all([
          rotateRefreshToken(db, issued.token, { ttlMs }),
          rotateRefreshToken(second.prisma, issued.token, { ttlMs }),
          rotateRefreshToken(db, issued.token, { ttlMs }),
          rotateRefreshToken(second.prisma, issued.token, { ttlMs }),
        ]);
        expect(results.filter((result) => result.ok)).toHaveLength(1);
        // Whichever order they ran in, no successor outlives the reuse detection.
        expect((await rowsOf(issued.family)).filter((row) => row.revokedAt === null)).toHaveLength(0);
      }
    } finally {
      await second.close();
    }
  });

  it("revokes the successor even when reuse is detected while the rotation is mid-way", async () => {
    const stolen = await issueRefreshToken(db, { userId, ttlMs });
    let resume = () => {};
    const gate = new Promise<void>((resolve) => (resume = resolve));
    let onSpent = () => {};
    const spent = new Promise<void>((resolve) => (onSpent = resolve));

    // The victim refreshes and is paused right after its token is spent; the thief then
    // presents the same token, which is now a reuse.
    const victim = rotateRefreshToken(pauseAfterSpend(db, onSpent, gate), stolen.token, { ttlMs });
    await spent;
    expect(await rotate(stolen.token)).toEqual({ ...invalid, reuse: true });
    resume();
    await victim;
    expect((await rowsOf(stolen.family)).filter((row) => row.revokedAt === null)).toHaveLength(0);
  });

  it("refuses non-positive lifetimes", async () => {
    await expect(issueRefreshToken(db, { userId, ttlMs: 0 })).rejects.toThrow(RangeError);
    await expect(rotateRefreshToken(db, "x", { ttlMs: -1 })).rejects.toThrow(RangeError);
  });
});

describe("refresh cookie", () => {
  const token = Buffer.alloc(32, 1).toString("base64url");

  it("builds the exact Set-Cookie strings", () => {
    expect(REFRESH_COOKIE).toBe("wl_refresh");
    expect(buildRefreshCookie(token, { secure: true, maxAgeSeconds: 2592000 })).toBe(
      `wl_refresh=${token}; Path=/api/auth; Max-Age=2592000; HttpOnly; SameSite=Lax; Secure`,
    );
    expect(buildRefreshCookie(token, { secure: false, maxAgeSeconds: 60 })).toBe(
      `wl_refresh=${token}; Path=/api/auth; Max-Age=60; HttpOnly; SameSite=Lax`,
    );
    expect(buildClearRefreshCookie({ secure: true })).toBe(
      "wl_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; SameSite=Lax; Secure",
    );
    expect(buildClearRefreshCookie({ secure: false })).toBe(
      "wl_refresh=; Path=/api/auth; Max-Age=0; HttpOnly; SameSite=Lax",
    );
  });

  it("refuses values that could inject attributes", () => {
    expect(() => buildRefreshCookie(`${token}; Domain=evil.example`, { secure: true, maxAgeSeconds: 60 })).toThrow();
    expect(() => buildRefreshCookie(token, { secure: true, maxAgeSeconds: 1.5 })).toThrow(RangeError);
  });

  it("reads the cookie from a Cookie header", () => {
    expect(readRefreshCookie(`wl_refresh=${token}`)).toBe(token);
    expect(readRefreshCookie(`theme=dark; wl_refresh=${token}; other=1`)).toBe(token);
    expect(readRefreshCookie(`xwl_refresh=${token}`)).toBeUndefined();
    expect(readRefreshCookie("wl_refresh=; a=b")).toBeUndefined();
    expect(readRefreshCookie(`wl_refresh=junk; wl_refresh=${token}`)).toBe(token);
    expect(readRefreshCookie(undefined)).toBeUndefined();
    expect(readRefreshCookie(null)).toBeUndefined();
    expect(readRefreshCookie("")).toBeUndefined();
  });
});

/** A view of `db` whose winning conditional update reports, then waits for `gate`. */
function pauseAfterSpend(db: Db, onSpent: () => void, gate: Promise<void>): Db {
  const delegate = db.refreshToken;
  const refreshToken = new Proxy(delegate, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (property !== "updateMany" || typeof value !== "function") {
        return typeof value === "function" ? value.bind(target) : value;
      }
      return async (args: Parameters<Db["refreshToken"]["updateMany"]>[0]) => {
        const result = await delegate.updateMany(args);
        if (result.count === 1) {
          onSpent();
          await gate;
        }
        return result;
      };
    },
  });
  return new Proxy(db, {
    get(target, property) {
      if (property === "refreshToken") return refreshToken;
      const value: unknown = Reflect.get(target, property);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
