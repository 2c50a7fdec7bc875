import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb, type DbHandle } from "./client";
import { migrateDatabase } from "./migrate";
import Database from "better-sqlite3";
import { createPrismaLoginWrites, createSqliteLoginWrites, type LoginWrites } from "./login-writes";
import { createGroupCommit } from "./sqlite-statements";
import { toMeUser } from "./users";

let dir: string;
let url: string;
let handle: DbHandle;
let fast: LoginWrites;

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "login-writes-"));
  url = `file:${path.join(dir, "app.db")}`;
  await migrateDatabase({ url });
  handle = await createDb({ url });
  fast = createSqliteLoginWrites(path.join(dir, "app.db"), handle.prisma);
});

afterAll(async () => {
  await fast.close();
  await handle.close();
  await rm(dir, { recursive: true, force: true });
});

describe("the SQLite hot-path writes", () => {
  it("write rows that Prisma reads exactly like its own", async () => {
    const address = Wallet.createRandom().address;
    const written = await fast.recordLogin({ address, ip: "127.0.0.1", userAgent: "test", method: "qr" });
    const read = await handle.prisma.user.findUnique({ where: { address }, include: { loginEvents: true } });
    expect(read).not.toBeNull();
    expect(toMeUser(read!)).toEqual(toMeUser(written));
    expect(read!.loginEvents).toHaveLength(1);
    expect(read!.loginEvents[0]).toMatchObject({
      userId: written.id,
      ip: "127.0.0.1",
      userAgent: "test",
      method: "qr",
    });
    expect(read!.loginEvents[0]!.at.getTime()).toBe(written.lastLoginAt!.getTime());
  });

  it("keep one user per address, stamp lastLoginAt and append an event per login", async () => {
    const address = Wallet.createRandom().address;
    const first = await fast.recordLogin({ address, method: "qr" });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await fast.recordLogin({ address, method: "qr" });
    expect(second.id).toBe(first.id);
    expect(second.createdAt.getTime()).toBe(first.createdAt.getTime());
    expect(second.lastLoginAt!.getTime()).toBeGreaterThan(first.lastLoginAt!.getTime());
    expect(await handle.prisma.loginEvent.count({ where: { userId: first.id } })).toBe(2);
  });

  it("key new rows by time, so each table's id index grows at its end", async () => {
    const users = [];
    for (let i = 0; i < 3; i++) {
      users.push(await fast.recordLogin({ address: Wallet.createRandom().address, method: "qr" }));
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const ids = users.map((user) => user.id);
    expect([...ids].sort()).toEqual(ids);
    const events = await handle.prisma.loginEvent.findMany({ where: { userId: { in: ids } }, orderBy: { at: "asc" } });
    expect(events.map((event) => event.id)).toEqual(events.map((event) => event.id).sort());
    for (const id of [...ids, ...events.map((event) => event.id)])
      expect(id).toMatch(/^c[0-9a-z]{13}[A-Za-z0-9_-]{12}$/);
  });

  it("agree with the Prisma implementation on users created by either", async () => {
    const viaPrisma = createPrismaLoginWrites(handle.prisma);
    const address = Wallet.createRandom().address;
    const created = await viaPrisma.recordLogin({ address, method: "qr" });
    const again = await fast.recordLogin({ address, method: "qr" });
    expect(again.id).toBe(created.id);
    expect(toMeUser((await fast.findUser(created.id))!)).toEqual(toMeUser((await viaPrisma.findUser(created.id))!));
    expect(await fast.findUser("nobody")).toBeNull();
  });

  it("store refresh token rows that Prisma finds by hash", async () => {
    const user = await fast.recordLogin({ address: Wallet.createRandom().address, method: "qr" });
    const expiresAt = new Date(Date.now() + 60_000);
    await fast.insertRefreshToken({ hash: `hash-${user.id}`, family: "fam", expiresAt, userId: user.id });
    const row = await handle.prisma.refreshToken.findUnique({ where: { hash: `hash-${user.id}` } });
    expect(row).toMatchObject({ family: "fam", userId: user.id, revokedAt: null });
    expect(row!.expiresAt.getTime()).toBe(expiresAt.getTime());
  });

  it("wait for a lock Prisma holds across event-loop turns instead of failing or blocking", async () => {
    const address = Wallet.createRandom().address;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const prismaTx = handle.prisma.$transaction(async (tx) => {
      await tx.user.create({ data: { address: Wallet.createRandom().address, claims: {} } });
      await held; // the write lock stays taken while JS runs elsewhere
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const login = fast.recordLogin({ address, method: "qr" });
    setTimeout(release, 50);
    await expect(login).resolves.toMatchObject({ address });
    await prismaTx;
  });

  it("record 100 concurrent logins each, without loss (timings printed, not asserted)", async () => {
    const viaPrisma = createPrismaLoginWrites(handle.prisma);
    const addresses = Array.from({ length: 200 }, () => Wallet.createRandom().address);
    let t = performance.now();
    await Promise.all(addresses.slice(0, 100).map((address) => viaPrisma.recordLogin({ address, method: "qr" })));
    const prismaMs = performance.now() - t;
    t = performance.now();
    await Promise.all(addresses.slice(100).map((address) => fast.recordLogin({ address, method: "qr" })));
    const fastMs = performance.now() - t;
    console.info(`100 logins: prisma ${prismaMs.toFixed(0)} ms, prepared statements ${fastMs.toFixed(0)} ms`);
    expect(await handle.prisma.user.count({ where: { address: { in: addresses } } })).toBe(200);
  });

  it("commit a turn's writes together, and a write that fails rolls back alone", async () => {
    const users = await Promise.all(
      Array.from({ length: 3 }, () => fast.recordLogin({ address: Wallet.createRandom().address, method: "qr" })),
    );
    const expiresAt = new Date(Date.now() + 60_000);
    // Asked for in one turn: one transaction. The middle one breaks the userId foreign key.
    const outcomes = await Promise.allSettled([
      fast.insertRefreshToken({ hash: `gc-a-${users[0]!.id}`, family: "gc", expiresAt, userId: users[0]!.id }),
      fast.insertRefreshToken({ hash: `gc-b-${users[1]!.id}`, family: "gc", expiresAt, userId: "no-such-user" }),
      fast.recordLogin({ address: users[2]!.address, method: "qr" }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    const rows = await handle.prisma.refreshToken.findMany({ where: { family: "gc" } });
    expect(rows.map((r) => r.hash)).toEqual([`gc-a-${users[0]!.id}`]);
    expect(await handle.prisma.loginEvent.count({ where: { userId: users[2]!.id } })).toBe(2);
  });
});

describe("createGroupCommit", () => {
  it("runs a turn's writes in one transaction and settles each after the COMMIT", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (n INTEGER NOT NULL)");
    const writes = createGroupCommit(db);
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    const seen: Array<{ n: number; inTransaction: boolean }> = [];
    const done = Promise.all(
      [1, 2, 3].map((n) =>
        writes.run(() => {
          insert.run(n);
          seen.push({ n, inTransaction: db.inTransaction });
          return n * 10;
        }),
      ),
    );
    expect(seen).toEqual([]); // nothing runs before the turn ends
    await expect(done).resolves.toEqual([10, 20, 30]);
    expect(seen).toEqual([1, 2, 3].map((n) => ({ n, inTransaction: true })));
    expect(db.inTransaction).toBe(false);
    expect(db.prepare("SELECT count(*) AS c FROM t").get()).toEqual({ c: 3 });
    db.close();
  });

  it("refuses the whole batch, running nothing more, when an error rolls back the transaction", async () => {
    const db = new Database(":memory:");
    db.exec(`CREATE TABLE t (n INTEGER NOT NULL);
      CREATE TRIGGER no_two BEFORE INSERT ON t WHEN NEW.n = 2 BEGIN SELECT RAISE(ROLLBACK, 'two'); END;`);
    const writes = createGroupCommit(db);
    const insert = db.prepare("INSERT INTO t (n) VALUES (?)");
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => writes.run(() => insert.run(n))));
    expect(outcomes.map((o) => o.status)).toEqual(["rejected", "rejected", "rejected", "rejected"]);
    for (const outcome of outcomes) expect(String((outcome as PromiseRejectedResult).reason)).toMatch(/two/);
    expect(db.prepare("SELECT count(*) AS c FROM t").get()).toEqual({ c: 0 });
    // The next turn's writes commit normally.
    await expect(writes.run(() => insert.run(5).changes)).resolves.toBe(1);
    expect(db.prepare("SELECT n FROM t").all()).toEqual([{ n: 5 }]);
    db.close();
  });

  it("commits what is queued on close and refuses writes after it", async () => {
    const db = new Database(":memory:");
    db.exec("CREATE TABLE t (n INTEGER NOT NULL)");
    const writes = createGroupCommit(db);
    const queued = writes.run(() => db.prepare("INSERT INTO t (n) VALUES (1)").run().changes);
    writes.close();
    await expect(queued).resolves.toBe(1);
    await expect(writes.run(() => 1)).rejects.toThrow(/closed/);
    expect(db.prepare("SELECT count(*) AS c FROM t").get()).toEqual({ c: 1 });
    db.close();
  });
});
