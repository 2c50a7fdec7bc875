import { randomBytes } from "node:crypto";
import { Wallet } from "ethers";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requireService, TEST_POSTGRES_URL } from "../../test/support/services";
import { createDb, type DbHandle } from "./client";
import { createLoginWrites, createPrismaLoginWrites, type LoginWrites } from "./login-writes";
import { migrateDatabase } from "./migrate";
import { createBatcher } from "./pg-login-writes";
import { toMeUser } from "./users";

const hasPostgres = await requireService("PostgreSQL", 5432);
const dbName = `wl_pg_writes_${process.pid}_${randomBytes(4).toString("hex")}`;

async function runAdmin(sql: string) {
  const client = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe.skipIf(!hasPostgres)("the PostgreSQL hot-path writes", () => {
  const schema = "other_schema";
  let url: string;
  let handle: DbHandle;
  let fast: LoginWrites;

  beforeAll(async () => {
    await runAdmin(`CREATE DATABASE "${dbName}"`);
    const u = new URL(TEST_POSTGRES_URL);
    u.pathname = `/${dbName}`;
    // A schema other than "public", as Prisma's ?schema= selects it: the statements must follow.
    u.searchParams.set("schema", schema);
    url = u.toString();
    await migrateDatabase({ url });
    handle = await createDb({ url });
    fast = createLoginWrites({ url, prisma: handle.prisma });
  });

  afterAll(async () => {
    await fast?.close();
    await handle?.close();
    await runAdmin(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
  });

  it("are the batched kind", () => {
    expect(fast.kind).toBe("postgres-batched");
  });

  it("write rows that Prisma reads exactly like its own, whatever the process's time zone", async () => {
    const zone = process.env.TZ;
    // pg reads TIMESTAMP without time zone as local time by default; Prisma writes UTC there.
    process.env.TZ = "America/New_York";
    try {
      const address = Wallet.createRandom().address;
      const written = await fast.recordLogin({ address, ip: "127.0.0.1", userAgent: "test", method: "qr" });
      expect(Math.abs(written.lastLoginAt!.getTime() - Date.now())).toBeLessThan(60_000);
      const read = await handle.prisma.user.findUnique({ where: { address }, include: { loginEvents: true } });
      expect(toMeUser(read!)).toEqual(toMeUser(written));
      expect(read!.loginEvents).toHaveLength(1);
      expect(read!.loginEvents[0]).toMatchObject({
        userId: written.id,
        ip: "127.0.0.1",
        userAgent: "test",
        method: "qr",
      });
      expect(read!.loginEvents[0]!.at.getTime()).toBe(written.lastLoginAt!.getTime());
      expect(toMeUser((await fast.findUser(written.id))!)).toEqual(toMeUser(read!));
    } finally {
      if (zone === undefined) delete process.env.TZ;
      else process.env.TZ = zone;
    }
  });

  it("keep one user per address and append an event per login, also for two logins in one batch", async () => {
    const address = Wallet.createRandom().address;
    const first = await fast.recordLogin({ address, method: "qr" });
    // Asked for in one turn: one statement, which may change the user's row only once.
    const [a, b] = await Promise.all([
      fast.recordLogin({ address, method: "qr" }),
      fast.recordLogin({ address, method: "qr" }),
    ]);
    expect(a.id).toBe(first.id);
    expect(b.id).toBe(first.id);
    expect(a.createdAt.getTime()).toBe(first.createdAt.getTime());
    expect(a.lastLoginAt!.getTime()).toBeGreaterThanOrEqual(first.lastLoginAt!.getTime());
    expect(await handle.prisma.loginEvent.count({ where: { userId: first.id } })).toBe(3);
    expect(await handle.prisma.user.count({ where: { address } })).toBe(1);
  });

  it("agree with the Prisma implementation on users created by either", async () => {
    const viaPrisma = createPrismaLoginWrites(handle.prisma);
    const address = Wallet.createRandom().address;
    const created = await viaPrisma.recordLogin({ address, method: "qr" });
    const again = await fast.recordLogin({ address, method: "qr" });
    expect(again.id).toBe(created.id);
    const byFast = await fast.recordLogin({ address: Wallet.createRandom().address, method: "qr" });
    expect(toMeUser((await viaPrisma.findUser(byFast.id))!)).toEqual(toMeUser(byFast));
    expect(toMeUser((await fast.findUser(created.id))!)).toEqual(toMeUser((await viaPrisma.findUser(created.id))!));
    expect(await fast.findUser("nobody")).toBeNull();
  });

  it("record 200 concurrent logins and read them back, without loss", async () => {
    const addresses = Array.from({ length: 200 }, () => Wallet.createRandom().address);
    const users = await Promise.all(addresses.map((address) => fast.recordLogin({ address, method: "qr" })));
    expect(users.map((user) => user.address)).toEqual(addresses);
    const found = await Promise.all(users.map((user) => fast.findUser(user.id)));
    expect(found.map((user) => user?.address)).toEqual(addresses);
    expect(await handle.prisma.user.count({ where: { address: { in: addresses } } })).toBe(200);
    expect(await handle.prisma.loginEvent.count({ where: { user: { address: { in: addresses } } } })).toBe(200);
  });

  it("store refresh token rows that Prisma finds by hash; in a batch, a bad row fails alone", async () => {
    const user = await fast.recordLogin({ address: Wallet.createRandom().address, method: "qr" });
    const expiresAt = new Date(Date.now() + 60_000);
    const outcomes = await Promise.allSettled([
      fast.insertRefreshToken({ hash: `a-${user.id}`, family: "fam", expiresAt, userId: user.id }),
      fast.insertRefreshToken({ hash: `b-${user.id}`, family: "fam", expiresAt, userId: "no-such-user" }),
      fast.insertRefreshToken({ hash: `c-${user.id}`, family: "fam", expiresAt, userId: user.id }),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/foreign key/);
    const rows = await handle.prisma.refreshToken.findMany({ where: { family: "fam" }, orderBy: { hash: "asc" } });
    expect(rows.map((r) => r.hash)).toEqual([`a-${user.id}`, `c-${user.id}`]);
    expect(rows[0]).toMatchObject({ userId: user.id, revokedAt: null });
    expect(rows[0]!.expiresAt.getTime()).toBe(expiresAt.getTime());
  });
});

describe("createBatcher", () => {
  it("sends the calls of one turn as one batch and answers each with its own output", async () => {
    const batches: number[][] = [];
    const batcher = createBatcher(async (inputs: number[]) => {
      batches.push(inputs);
      return inputs.map((n) => n * 10);
    });
    await expect(Promise.all([1, 2, 3].map((n) => batcher.run(n)))).resolves.toEqual([10, 20, 30]);
    expect(batches).toEqual([[1, 2, 3]]);
  });

  it("keeps at most maxInFlight batches running; calls made meanwhile go together in the next", async () => {
    const batches: number[][] = [];
    const releases: Array<() => void> = [];
    let running = 0;
    let mostRunning = 0;
    const batcher = createBatcher(
      async (inputs: number[]) => {
        batches.push(inputs);
        running++;
        mostRunning = Math.max(mostRunning, running);
        await new Promise<void>((resolve) => releases.push(resolve));
        running--;
        return inputs;
      },
      { maxInFlight: 1 },
    );
    const first = batcher.run(1);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [2, 3, 4].map((n) => batcher.run(n));
    await new Promise((resolve) => setImmediate(resolve));
    expect(batches).toEqual([[1]]);
    releases.shift()!();
    await first;
    while (releases.length === 0) await new Promise((resolve) => setImmediate(resolve));
    releases.shift()!();
    await expect(Promise.all(later)).resolves.toEqual([2, 3, 4]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
    expect(mostRunning).toBe(1);
    await batcher.drain();
  });

  it("runs a failed batch again call by call, so only the bad call fails", async () => {
    const batcher = createBatcher(async (inputs: number[]) => {
      if (inputs.includes(2)) throw new Error("two");
      return inputs;
    });
    const outcomes = await Promise.allSettled([1, 2, 3].map((n) => batcher.run(n)));
    expect(outcomes.map((o) => o.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(String((outcomes[1] as PromiseRejectedResult).reason)).toMatch(/two/);
  });
});
