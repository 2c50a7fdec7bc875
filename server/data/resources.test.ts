import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Wallet, hexlify, randomBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../../test/support/manual-clock";
import { createDb } from "../db/client";
import type { Db, DbHandle } from "../db/client";
import { migrateDatabase } from "../db/migrate";
import { createPageReader, readDataPage } from "./resources";

let dir: string;
let handle: DbHandle;
let db: Db;
const T0 = Date.UTC(2030, 0, 1);
const userIds: string[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wl-resources-test-"));
  const url = `file:${path.join(dir, "app.db")}`;
  await migrateDatabase({ url });
  handle = await createDb({ url });
  db = handle.prisma;
  // Five users; two share a createdAt so the id decides their order.
  const times = [T0 + 3000, T0, T0 + 1000, T0 + 1000, T0 + 2000];
  for (const [index, time] of times.entries()) {
    const user = await db.user.create({
      data: {
        address: new Wallet(hexlify(randomBytes(32))).address,
        claims: index === 0 ? { email: "a@example.com" } : {},
        createdAt: new Date(time),
        lastLoginAt: index === 4 ? null : new Date(time + 10),
      },
    });
    userIds.push(user.id);
    await db.loginEvent.create({
      data: {
        userId: user.id,
        at: new Date(time + 10),
        ip: "203.0.113.9",
        userAgent: index ? "ua" : null,
        method: "qr",
      },
    });
  }
});
afterAll(async () => {
  await handle?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe("readDataPage", () => {
  it("lists users by createdAt then id, with meta", async () => {
    const all = await readDataPage(db, "users", { limit: 100, page: 1 });
    expect(all.meta).toEqual({ page: 1, limit: 100, total: 5, pages: 1 });
    const times = all.data.map((user) => user.createdAt);
    expect(times).toEqual([...times].sort());
    const tied = all.data.filter((user) => user.createdAt === new Date(T0 + 1000).toISOString()).map((u) => u.id);
    expect(tied).toEqual([...tied].sort());
    const first = all.data.find((user) => user.id === userIds[0]);
    expect(first).toEqual({
      id: userIds[0],
      address: expect.stringMatching(/^0x[0-9a-fA-F]{40}$/),
      claims: { email: "a@example.com" },
      createdAt: new Date(T0 + 3000).toISOString(),
      lastLoginAt: new Date(T0 + 3010).toISOString(),
    });
    expect(all.data.find((user) => user.id === userIds[4])?.lastLoginAt).toBeNull();
  });

  it("pages through users without gaps or repeats", async () => {
    const all = (await readDataPage(db, "users", { limit: 100, page: 1 })).data.map((u) => u.id);
    const pages = [];
    for (let page = 1; page <= 3; page++) pages.push(await readDataPage(db, "users", { limit: 2, page }));
    expect(pages.map((p) => p.meta)).toEqual([1, 2, 3].map((page) => ({ page, limit: 2, total: 5, pages: 3 })));
    expect(pages.flatMap((p) => p.data.map((u) => u.id))).toEqual(all);
    expect(await readDataPage(db, "users", { limit: 2, page: 4 })).toEqual({
      data: [],
      meta: { page: 4, limit: 2, total: 5, pages: 3 },
    });
    expect((await readDataPage(db, "users", { limit: 100, page: Number.MAX_SAFE_INTEGER })).data).toEqual([]);
  });

  it("lists logins by time with the user's address and without the IP", async () => {
    const logins = await readDataPage(db, "logins", { limit: 3, page: 1 });
    expect(logins.meta).toEqual({ page: 1, limit: 3, total: 5, pages: 2 });
    expect(logins.data[0]).toEqual({
      id: expect.any(String),
      userId: userIds[1],
      address: expect.stringMatching(/^0x/),
      at: new Date(T0 + 10).toISOString(),
      method: "qr",
      userAgent: "ua",
    });
    expect(JSON.stringify(logins)).not.toContain("203.0.113.9");
  });
});

describe("createPageReader", () => {
  it("serves one page per key from cache for cacheMs, then reads again", async () => {
    const clock = createManualClock();
    const reader = createPageReader({ db, cacheMs: 300, now: clock.now });
    const before = JSON.parse(await reader.readPage("users", { limit: 100, page: 1 }));
    const extra = await db.user.create({ data: { address: new Wallet(hexlify(randomBytes(32))).address, claims: {} } });
    try {
      expect(JSON.parse(await reader.readPage("users", { limit: 100, page: 1 }))).toEqual(before);
      // Another key is another read.
      expect(JSON.parse(await reader.readPage("users", { limit: 99, page: 1 })).meta.total).toBe(6);
      clock.advance(301);
      expect(JSON.parse(await reader.readPage("users", { limit: 100, page: 1 })).meta.total).toBe(6);
      const uncached = createPageReader({ db, cacheMs: 0 });
      expect(JSON.parse(await uncached.readPage("logins", { limit: 1, page: 1 })).meta.total).toBe(5);
    } finally {
      await db.user.delete({ where: { id: extra.id } });
    }
  });
});
