import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDb } from "./client";
import type { DbHandle } from "./client";
import { computeMigrationChecksum, getDefaultMigrationsDir, migrateDatabase, MigrationError } from "./migrate";
import type { DatabaseProvider } from "./migrate";
import { findUserById, toMeUser, toPublicUser, upsertUserOnLogin } from "./users";

// The CI machine runs PostgreSQL on its standard local port; elsewhere these tests
// skip (and say why) when nothing answers there.
const PG_ADMIN_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";
const pgProbe = await probePostgres(PG_ADMIN_URL);
if (!pgProbe.ok && process.env.CI !== "true") {
  console.warn(`Skipping the PostgreSQL database tests: no server answered at ${PG_ADMIN_URL} (${pgProbe.reason})`);
}

interface Scratch {
  url: string;
  query<T>(sql: string): Promise<T[]>;
}

interface Backend {
  provider: DatabaseProvider;
  isSkipped: boolean;
  /** Prepares the backend once; throws (failing the suite) when it cannot. */
  open(): Promise<void>;
  createScratch(): Promise<Scratch>;
  /** Removes every scratch database it made. */
  close(): Promise<void>;
}

function createSqliteBackend(): Backend {
  let root = "";
  let count = 0;
  return {
    provider: "sqlite",
    isSkipped: false,
    async open() {
      root = await fs.mkdtemp(path.join(os.tmpdir(), "wl-db-test-"));
    },
    async createScratch() {
      // a folder that does not exist yet: the migrator creates it
      const file = path.join(root, `run-${++count}`, "app.db");
      return {
        url: `file:${file}`,
        async query<T>(sql: string) {
          const db = new Database(file, { readonly: true });
          try {
            return db.prepare(sql).all() as T[];
          } finally {
            db.close();
          }
        },
      };
    },
    async close() {
      if (root) await fs.rm(root, { recursive: true, force: true });
    },
  };
}

function createPostgresBackend(): Backend {
  const prefix = `wl_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  const names: string[] = [];
  return {
    provider: "postgresql",
    isSkipped: !pgProbe.ok && process.env.CI !== "true",
    async open() {
      if (!pgProbe.ok) throw new Error(`PostgreSQL did not answer at ${PG_ADMIN_URL}: ${pgProbe.reason}`);
    },
    async createScratch() {
      const name = `${prefix}_${names.length}`;
      names.push(name);
      await runPg(PG_ADMIN_URL, `CREATE DATABASE "${name}"`);
      const url = new URL(PG_ADMIN_URL);
      url.pathname = `/${name}`;
      return { url: url.toString(), query: <T>(sql: string) => runPg<T>(url.toString(), sql) };
    },
    async close() {
      for (const name of names) await runPg(PG_ADMIN_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

for (const backend of [createSqliteBackend(), createPostgresBackend()]) {
  describe.skipIf(backend.isSkipped)(`database on ${backend.provider}`, () => {
    const migrationsDir = getDefaultMigrationsDir(backend.provider);
    const handles: DbHandle[] = [];
    const tempDirs: string[] = [];

    beforeAll(() => backend.open());
    afterAll(async () => {
      await Promise.all(handles.map((handle) => handle.close()));
      await Promise.all(tempDirs.map((dir) => fs.rm(dir, { recursive: true, force: true })));
      await backend.close();
    });

    async function copyMigrations(): Promise<string> {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), "wl-migrations-"));
      tempDirs.push(dir);
      await fs.cp(migrationsDir, dir, { recursive: true });
      return dir;
    }

    async function listMigrationNames(dir = migrationsDir): Promise<string[]> {
      const entries = await fs.readdir(dir, { withFileTypes: true });
      return entries
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
        .sort();
    }

    async function openDb(url: string): Promise<DbHandle> {
      const handle = await createDb({ url });
      handles.push(handle);
      return handle;
    }

    it("migrates an empty database, records Prisma's history, then has nothing to do", async () => {
      const scratch = await backend.createScratch();
      const names = await listMigrationNames();
      expect(names.length).toBeGreaterThan(0);

      const logs: string[] = [];
      expect(await migrateDatabase({ url: scratch.url, log: (msg) => logs.push(msg) })).toEqual({ applied: names });
      expect(logs.at(-1)).toMatch(/^applied \d+ migration/);

      const rows = await scratch.query<{
        migration_name: string;
        checksum: string;
        finished_at: unknown;
        applied_steps_count: number;
      }>(
        `SELECT migration_name, checksum, finished_at, applied_steps_count FROM "_prisma_migrations" ORDER BY migration_name`,
      );
      const expected = await Promise.all(
        names.map(async (name) => ({
          migration_name: name,
          checksum: computeMigrationChecksum(
            await fs.readFile(path.join(migrationsDir, name, "migration.sql"), "utf8"),
          ),
        })),
      );
      expect(rows.map(({ migration_name, checksum }) => ({ migration_name, checksum }))).toEqual(expected);
      expect(rows.every((row) => row.finished_at != null && Number(row.applied_steps_count) === 1)).toBe(true);

      expect(await migrateDatabase({ url: scratch.url })).toEqual({ applied: [] });
    });

    it("applies a new migration on top, and rolls back one that fails", async () => {
      const scratch = await backend.createScratch();
      const dir = await copyMigrations();
      await migrateDatabase({ url: scratch.url, migrationsDir: dir });

      await fs.mkdir(path.join(dir, "99990101000000_extra"));
      await fs.writeFile(
        path.join(dir, "99990101000000_extra/migration.sql"),
        `CREATE TABLE "Extra" ("id" TEXT PRIMARY KEY);\n`,
      );
      expect(await migrateDatabase({ url: scratch.url, migrationsDir: dir })).toEqual({
        applied: ["99990101000000_extra"],
      });

      await fs.mkdir(path.join(dir, "99990102000000_broken"));
      await fs.writeFile(
        path.join(dir, "99990102000000_broken/migration.sql"),
        `CREATE TABLE "Half" ("id" TEXT PRIMARY KEY);\nINSERT INTO "NoSuchTable" VALUES (1);\n`,
      );
      await expect(migrateDatabase({ url: scratch.url, migrationsDir: dir })).rejects.toMatchObject({
        code: "apply-failed",
        message: expect.stringContaining("99990102000000_broken"),
      });
      const half = await scratch.query(
        backend.provider === "sqlite"
          ? `SELECT name FROM sqlite_master WHERE name = 'Half'`
          : `SELECT tablename FROM pg_tables WHERE tablename = 'Half'`,
      );
      expect(half).toEqual([]);
      const recorded = await scratch.query(
        `SELECT id FROM "_prisma_migrations" WHERE migration_name = '99990102000000_broken'`,
      );
      expect(recorded).toEqual([]);
    });

    it("refuses to start when an applied migration was edited or is missing", async () => {
      const scratch = await backend.createScratch();
      const dir = await copyMigrations();
      await migrateDatabase({ url: scratch.url, migrationsDir: dir });
      const [first] = await listMigrationNames(dir);
      const file = path.join(dir, first!, "migration.sql");
      const original = await fs.readFile(file, "utf8");

      // git may check the file out with other line endings: Prisma accepts that, so must we
      await fs.writeFile(file, original.replaceAll("\n", "\r\n"));
      expect(await migrateDatabase({ url: scratch.url, migrationsDir: dir })).toEqual({ applied: [] });

      await fs.writeFile(file, `${original}-- edited\n`);
      const edited = migrateDatabase({ url: scratch.url, migrationsDir: dir });
      await expect(edited).rejects.toBeInstanceOf(MigrationError);
      await expect(edited).rejects.toMatchObject({
        code: "modified-migration",
        message: expect.stringContaining(first!),
      });

      await fs.rm(path.join(dir, first!), { recursive: true });
      await expect(migrateDatabase({ url: scratch.url, migrationsDir: dir })).rejects.toMatchObject({
        code: "missing-migration",
      });
    });

    it("refuses another provider's migrations folder", async () => {
      const scratch = await backend.createScratch();
      const other = getDefaultMigrationsDir(backend.provider === "sqlite" ? "postgresql" : "sqlite");
      await expect(migrateDatabase({ url: scratch.url, migrationsDir: other })).rejects.toMatchObject({
        code: "provider-mismatch",
      });
    });

    it("applies each migration once when several processes start at once", async () => {
      const scratch = await backend.createScratch();
      const names = await listMigrationNames();
      const results = await Promise.all([
        migrateDatabase({ url: scratch.url }),
        migrateDatabase({ url: scratch.url }),
        migrateInChildProcess(scratch.url),
      ]);
      expect(results.flatMap((r) => r.applied).sort()).toEqual(names);
      const rows = await scratch.query(`SELECT migration_name FROM "_prisma_migrations"`);
      expect(rows).toHaveLength(names.length);
    });

    describe("users", () => {
      let handle: DbHandle;
      beforeAll(async () => {
        const scratch = await backend.createScratch();
        await migrateDatabase({ url: scratch.url });
        handle = await openDb(scratch.url);
      });

      it("creates a user on first login, then updates it and merges claims", async () => {
        const { prisma } = handle;
        expect(handle.provider).toBe(backend.provider);
        const address = "0x52908400098527886E0F7030069857D2E4169EE7";

        const created = await upsertUserOnLogin(prisma, {
          address,
          claims: { email: "a@example.com", age: 30 },
          ip: "192.0.2.1",
          userAgent: "wallet/1",
          method: "qr",
        });
        expect(created.address).toBe(address);
        expect(created.createdAt.getTime()).toBe(created.lastLoginAt?.getTime());

        const again = await upsertUserOnLogin(prisma, { address, claims: { age: 31, country: "NL" }, method: "qr" });
        expect(again.id).toBe(created.id);
        expect(again.lastLoginAt!.getTime()).toBeGreaterThanOrEqual(created.lastLoginAt!.getTime());
        expect(toPublicUser(again)).toEqual({
          id: created.id,
          address,
          claims: { email: "a@example.com", age: 31, country: "NL" },
        });

        const noClaims = await upsertUserOnLogin(prisma, { address, method: "refresh" });
        expect(toPublicUser(noClaims).claims).toEqual({ email: "a@example.com", age: 31, country: "NL" });

        const events = await prisma.loginEvent.findMany({ where: { userId: created.id }, orderBy: { at: "asc" } });
        expect(events.map((e) => [e.method, e.ip, e.userAgent])).toEqual([
          ["qr", "192.0.2.1", "wallet/1"],
          ["qr", null, null],
          ["refresh", null, null],
        ]);

        const found = await findUserById(prisma, created.id);
        expect(found && toMeUser(found)).toEqual({
          id: created.id,
          address,
          claims: { email: "a@example.com", age: 31, country: "NL" },
          createdAt: created.createdAt.toISOString(),
          lastLoginAt: noClaims.lastLoginAt!.toISOString(),
        });
        expect(await findUserById(prisma, "no-such-id")).toBeNull();
      });

      it("keeps addresses unique, also when the same new address logs in twice at once", async () => {
        const { prisma } = handle;
        const address = "0x8617E340B3D01FA5F11F306F4090FD50E238070D";
        const users = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            upsertUserOnLogin(prisma, { address, claims: { [`k${i}`]: i }, method: "qr" }),
          ),
        );
        expect(new Set(users.map((u) => u.id)).size).toBe(1);
        expect(await prisma.user.count({ where: { address } })).toBe(1);
        expect(await prisma.loginEvent.count({ where: { userId: users[0]!.id } })).toBe(8);
        const merged = toPublicUser((await findUserById(prisma, users[0]!.id))!).claims;
        expect(Object.keys(merged).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `k${i}`));

        await expect(prisma.user.create({ data: { address } })).rejects.toMatchObject({ code: "P2002" });
      });

      it("shows a user without a login yet with a null lastLoginAt", async () => {
        const user = await handle.prisma.user.create({
          data: { address: "0x0000000000000000000000000000000000000001" },
        });
        expect(toMeUser(user)).toMatchObject({
          claims: {},
          lastLoginAt: null,
          createdAt: user.createdAt.toISOString(),
        });
      });
    });
  });
}

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

async function migrateInChildProcess(url: string): Promise<{ applied: string[] }> {
  const migrate = JSON.stringify(fileURLToPath(new URL("./migrate.ts", import.meta.url)));
  const script = `import(${migrate}).then((m) => m.migrateDatabase({ url: ${JSON.stringify(url)} })).then((r) => console.log(JSON.stringify(r)))`;
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "-e", script], { cwd: REPO_ROOT });
  return JSON.parse(stdout) as { applied: string[] };
}

async function probePostgres(url: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  client.on("error", () => {});
  try {
    await client.connect();
    await client.query("SELECT 1");
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await client.end().catch(() => {});
  }
}

async function runPg<T>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(sql)).rows as T[];
  } finally {
    await client.end();
  }
}

describe("migrateDatabase: a PostgreSQL that does not answer", () => {
  it("stops the start with a message naming the database and why, never its password", async () => {
    const start = migrateDatabase({ url: "postgresql://app:hunter2-secret@127.0.0.1:1/walletdb", log: () => {} });
    await expect(start).rejects.toThrow(
      /PostgreSQL at 127\.0\.0\.1:1\/walletdb \(DATABASE_URL\) did not answer.*ECONNREFUSED/,
    );
    await expect(start).rejects.not.toThrow(/hunter2/);
  });
});
