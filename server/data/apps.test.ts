import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Wallet, hexlify, randomBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../../test/support/manual-clock";
import { createDb } from "../db/client";
import type { Db, DbHandle } from "../db/client";
import { migrateDatabase } from "../db/migrate";
import { createLogger } from "../logger";
import { createAppDirectory } from "./app-directory";
import { createApp, listAllApps, listAppsOfOwner, normaliseAddress, setAppActive, toAppSummary } from "./apps";

let dir: string;
let handle: DbHandle;
let db: Db;
const log = createLogger("silent");

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wl-apps-test-"));
  const url = `file:${path.join(dir, "app.db")}`;
  await migrateDatabase({ url });
  handle = await createDb({ url });
  db = handle.prisma;
});
afterAll(async () => {
  await handle?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

const newAddress = () => new Wallet(hexlify(randomBytes(32))).address;
const createUser = () => db.user.create({ data: { address: newAddress(), claims: {} } });

describe("createApp", () => {
  it("makes a key pair when no address is given: the key signs for the stored address and is not stored", async () => {
    const owner = await createUser();
    const created = await createApp(db, { name: "Reports", ownerUserId: owner.id });
    if (!created.ok) throw new Error("not created");
    expect(created.privateKey).toMatch(/^0x[0-9a-f]{64}$/);
    expect(new Wallet(created.privateKey!).address).toBe(created.app.address);
    expect(created.app).toMatchObject({ name: "Reports", ownerUserId: owner.id, active: true, lastUsedAt: null });
    const stored = JSON.stringify(await db.app.findUnique({ where: { id: created.app.id } }));
    expect(stored).not.toContain(created.privateKey!.slice(2));
  });

  it("keeps a given address in checksummed form and returns no key", async () => {
    const owner = await createUser();
    const address = newAddress();
    const created = await createApp(db, { name: "Mine", address: address.toLowerCase(), ownerUserId: owner.id });
    expect(created).toMatchObject({ ok: true, app: { address } });
    expect(created.ok && "privateKey" in created).toBe(false);
  });

  it("refuses an address with a wrong checksum or of the wrong length", async () => {
    const owner = await createUser();
    const address = newAddress();
    const flipped = address.replace(/[a-f]/, (c) => c.toUpperCase());
    expect(flipped).not.toBe(address);
    for (const bad of [flipped, address.slice(0, -1), `${address}0`, "0xnothex"]) {
      expect(await createApp(db, { name: "x", address: bad, ownerUserId: owner.id })).toMatchObject({
        ok: false,
        code: "invalid_request",
      });
    }
  });

  it("creates an app without owner (the CLI's) and with its own rate limit", async () => {
    const created = await createApp(db, { name: "cli", ownerUserId: null, rateLimitPerMinute: 5 });
    expect(created).toMatchObject({ ok: true, app: { ownerUserId: null, rateLimitPerMinute: 5 } });
  });
});

describe("listing and changing apps", () => {
  it("lists an owner's apps oldest first and nobody else's", async () => {
    const [alice, bob] = [await createUser(), await createUser()];
    const a1 = await createApp(db, { name: "a1", ownerUserId: alice.id });
    const b1 = await createApp(db, { name: "b1", ownerUserId: bob.id });
    const a2 = await createApp(db, { name: "a2", ownerUserId: alice.id });
    const ids = (await listAppsOfOwner(db, alice.id)).map((app) => app.id);
    expect(ids).toEqual([a1, a2].map((r) => (r.ok ? r.app.id : "")));
    const all = (await listAllApps(db)).map((app) => app.id);
    expect(all).toEqual(expect.arrayContaining([a1, b1, a2].map((r) => (r.ok ? r.app.id : ""))));
  });

  it("lets the owner and the operator disable and enable; 403 for another user, 404 for an unknown id", async () => {
    const [alice, bob] = [await createUser(), await createUser()];
    const created = await createApp(db, { name: "a", ownerUserId: alice.id });
    if (!created.ok) throw new Error("not created");
    const id = created.app.id;
    expect(await setAppActive(db, id, false, bob.id)).toEqual({ ok: false, code: "forbidden" });
    expect(await setAppActive(db, "nope", false, alice.id)).toEqual({ ok: false, code: "not_found" });
    expect(await setAppActive(db, id, false, alice.id)).toMatchObject({ ok: true, app: { active: false } });
    expect(await setAppActive(db, id, false, alice.id)).toMatchObject({ ok: true, app: { active: false } });
    expect(await setAppActive(db, id, true)).toMatchObject({ ok: true, app: { active: true } });
    const ownerless = await createApp(db, { name: "cli", ownerUserId: null });
    if (!ownerless.ok) throw new Error("not created");
    expect(await setAppActive(db, ownerless.app.id, false, alice.id)).toEqual({ ok: false, code: "forbidden" });
  });

  it("summarises an app with ISO dates", async () => {
    const created = await createApp(db, { name: "s", ownerUserId: null });
    if (!created.ok) throw new Error("not created");
    expect(toAppSummary(created.app)).toEqual({
      id: created.app.id,
      name: "s",
      address: created.app.address,
      active: true,
      createdAt: created.app.createdAt.toISOString(),
      lastUsedAt: null,
    });
  });
});

describe("normaliseAddress", () => {
  it("checksums lower and upper case and refuses the rest", () => {
    const address = newAddress();
    expect(normaliseAddress(address.toLowerCase())).toBe(address);
    expect(normaliseAddress(`0x${address.slice(2).toUpperCase()}`)).toBe(address);
    expect(normaliseAddress(address.slice(2))).toBeNull();
  });
});

describe("app directory", () => {
  it("caches lookups (found or not) for cacheMs, shares concurrent ones, and forgets on request", async () => {
    const created = await createApp(db, { name: "d", ownerUserId: null });
    if (!created.ok) throw new Error("not created");
    const id = created.app.id;
    const directory = createAppDirectory({ db, log, cacheMs: 60_000 });
    const [first, second] = await Promise.all([directory.find(id), directory.find(id)]);
    expect(first).toEqual({ id, address: created.app.address, active: true, rateLimitPerMinute: 600 });
    expect(second).toBe(first);
    expect(await directory.find("missing")).toBeNull();

    await db.app.update({ where: { id }, data: { active: false } });
    expect((await directory.find(id))?.active).toBe(true);
    directory.forget(id);
    expect((await directory.find(id))?.active).toBe(false);
  });

  it("re-reads after cacheMs and keeps at most maxEntries ids", async () => {
    const created = await createApp(db, { name: "e", ownerUserId: null });
    if (!created.ok) throw new Error("not created");
    const id = created.app.id;
    const clock = createManualClock();
    const directory = createAppDirectory({ db, log, cacheMs: 100, maxEntries: 2, now: clock.now });
    expect((await directory.find(id))?.active).toBe(true);
    await db.app.update({ where: { id }, data: { active: false } });
    expect((await directory.find(id))?.active).toBe(true);
    clock.advance(101);
    expect((await directory.find(id))?.active).toBe(false);

    await db.app.update({ where: { id }, data: { active: true } });
    const bounded = createAppDirectory({ db, log, cacheMs: 60_000, maxEntries: 2 });
    await bounded.find(id);
    await db.app.update({ where: { id }, data: { active: false } });
    await bounded.find("x1");
    await bounded.find("x2");
    // `id` was the oldest entry and was dropped: read again.
    expect((await bounded.find(id))?.active).toBe(false);
  });

  it("stamps lastUsedAt at most once per interval", async () => {
    const created = await createApp(db, { name: "t", ownerUserId: null });
    if (!created.ok) throw new Error("not created");
    const id = created.app.id;
    const directory = createAppDirectory({ db, log, touchIntervalMs: 60_000 });
    const t0 = Date.UTC(2030, 0, 1);
    const readStamp = async () => (await db.app.findUnique({ where: { id } }))?.lastUsedAt?.getTime();
    directory.noteUse(id, t0);
    await expect.poll(readStamp).toBe(t0);
    directory.noteUse(id, t0 + 30_000);
    directory.noteUse(id, t0 + 60_000);
    await expect.poll(readStamp).toBe(t0 + 60_000);
    // A failed write (no such app) is only logged.
    directory.noteUse("missing", t0);
  });
});
