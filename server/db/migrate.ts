/**
 * Applies pending Prisma migrations at server start without the Prisma CLI (which
 * takes seconds to boot and needs a schema engine).
 *
 * Rules it keeps, so `prisma migrate status|deploy|dev` stay in agreement with it:
 * - History lives in Prisma's own `_prisma_migrations` table, created with the same
 *   columns; a row's checksum is the SHA-256 hex of migration.sql, as the engine's
 *   checksum.rs computes it (a file re-checked out with other line endings matches).
 * - It refuses to start, and changes nothing, when a recorded migration failed, was
 *   edited after it was applied, or is no longer in the migrations folder: each of
 *   those needs a person (`prisma migrate resolve`), never a guess.
 * - Each pending migration runs in its own transaction together with its history
 *   row, so a failure leaves neither half behind.
 * - Two processes starting at once apply each migration once: PostgreSQL takes the
 *   engine's own advisory lock (so it also waits for a running `prisma migrate`),
 *   SQLite takes the write lock (BEGIN IMMEDIATE) and waits on the busy timeout.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type pg from "pg";

export type DatabaseProvider = "sqlite" | "postgresql";

export interface Migration {
  /** The folder name, e.g. `20260101000000_init`; history rows are keyed by it. */
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateOptions {
  url: string;
  /** Defaults to prisma/migrations (SQLite) or prisma/postgres/migrations. */
  migrationsDir?: string;
  log?: (msg: string) => void;
}

export type MigrationErrorCode =
  | "failed-migration"
  | "modified-migration"
  | "missing-migration"
  | "provider-mismatch"
  | "apply-failed"
  | "lock-timeout";

export class MigrationError extends Error {
  override name = "MigrationError";
  constructor(
    readonly code: MigrationErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: unknown;
  rolled_back_at: unknown;
}

// The number Prisma's schema engine locks on; sharing it makes our migrator and a
// concurrent `prisma migrate deploy` wait for each other.
const PG_MIGRATE_LOCK_KEY = 72707369;
// Long enough for another node's migration to finish, short enough that a stuck
// lock surfaces as an error rather than a hung deploy.
const LOCK_WAIT_MS = 60_000;
/** How long the start waits for PostgreSQL to accept the migrator's connection (a silent host would hang it). */
const PG_CONNECT_TIMEOUT_MS = 10_000;

// Exactly the engine's DDL (sql-schema-connector), so the CLI finds what it expects.
const SQLITE_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    TEXT PRIMARY KEY NOT NULL,
    "checksum"              TEXT NOT NULL,
    "finished_at"           DATETIME,
    "migration_name"        TEXT NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        DATETIME,
    "started_at"            DATETIME NOT NULL DEFAULT current_timestamp,
    "applied_steps_count"   INTEGER UNSIGNED NOT NULL DEFAULT 0
);`;
const PG_HISTORY_TABLE = `CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

export function detectProvider(url: string): DatabaseProvider {
  if (url.startsWith("file:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgresql";
  throw new Error("DATABASE_URL must start with file: (SQLite) or postgresql://");
}

/** The absolute file path of a `file:` url; relative paths are taken from the working directory, as the adapter does. */
export function resolveSqlitePath(url: string): string {
  const withoutQuery = url.replace(/^file:/, "").replace(/\?.*$/, "");
  const file = withoutQuery.startsWith("//") ? fileURLToPath(`file:${withoutQuery}`) : withoutQuery;
  if (!file || file === ":memory:") throw new Error("SQLite needs a database file, not memory, to keep its migrations");
  return path.resolve(file);
}

/** Splits Prisma's `?schema=` parameter off a PostgreSQL url (pg itself does not know it). */
export function parsePostgresUrl(url: string): { connectionString: string; schema: string | undefined } {
  const u = new URL(url);
  const schema = u.searchParams.get("schema") ?? undefined;
  u.searchParams.delete("schema");
  return { connectionString: u.toString(), schema };
}

export function getDefaultMigrationsDir(provider: DatabaseProvider): string {
  const prismaDir = fileURLToPath(new URL("../../prisma/", import.meta.url));
  return path.join(prismaDir, provider === "postgresql" ? "postgres/migrations" : "migrations");
}

export function computeMigrationChecksum(script: string): string {
  return createHash("sha256").update(script, "utf8").digest("hex");
}

/** As the engine's script_matches_checksum: line endings may differ, and old rows lack zero padding. */
export function isChecksumMatch(script: string, checksum: string): boolean {
  const variants = [script, script.replaceAll("\r\n", "\n"), script.replaceAll("\n", "\r\n")];
  return variants.some((variant) => {
    const digest = createHash("sha256").update(variant, "utf8").digest();
    const rendered =
      checksum.length === 64 ? digest.toString("hex") : Array.from(digest, (byte) => byte.toString(16)).join("");
    return rendered === checksum;
  });
}

export async function readMigrations(dir: string, provider: DatabaseProvider): Promise<Migration[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") throw new Error(`Migrations folder ${dir} does not exist`, { cause: error });
    throw error;
  });
  const lock = await fs.readFile(path.join(dir, "migration_lock.toml"), "utf8").catch(() => undefined);
  const locked = lock && /^\s*provider\s*=\s*"([^"]+)"/m.exec(lock)?.[1];
  if (locked && locked !== provider) {
    throw new MigrationError(
      "provider-mismatch",
      `${dir} holds ${locked} migrations but the database is ${provider}: check DATABASE_URL`,
    );
  }
  const names = entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith("."))
    .map((entry) => entry.name)
    // byte order, as the engine sorts folder names (timestamps first)
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return Promise.all(
    names.map(async (name) => {
      const sql = await fs.readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: computeMigrationChecksum(sql) };
    }),
  );
}

/** Throws when the recorded history cannot be trusted; returns the folder's migrations not yet applied, in order. */
function findPendingMigrations(migrations: Migration[], rows: HistoryRow[]): Migration[] {
  const failed = rows.find((row) => row.finished_at == null && row.rolled_back_at == null);
  if (failed) {
    throw new MigrationError(
      "failed-migration",
      `Migration ${failed.migration_name} failed earlier and is recorded as unfinished. Fix the database, then mark it with ` +
        `\`prisma migrate resolve --applied|--rolled-back ${failed.migration_name}\` before starting again.`,
    );
  }
  const applied = rows.filter((row) => row.rolled_back_at == null);
  const byName = new Map(migrations.map((m) => [m.name, m]));
  for (const row of applied) {
    const migration = byName.get(row.migration_name);
    if (!migration) {
      throw new MigrationError(
        "missing-migration",
        `Migration ${row.migration_name} is recorded in the database but missing from the migrations folder: ` +
          "restore it (or point DATABASE_URL at the right database) before starting.",
      );
    }
    if (!isChecksumMatch(migration.sql, row.checksum)) {
      throw new MigrationError(
        "modified-migration",
        `Migration ${row.migration_name} was modified after it was applied (checksum differs). ` +
          "Restore the applied migration.sql and put the change in a new migration.",
      );
    }
  }
  const appliedNames = new Set(applied.map((row) => row.migration_name));
  return migrations.filter((m) => !appliedNames.has(m.name));
}

export async function migrateDatabase(opts: MigrateOptions): Promise<{ applied: string[] }> {
  const provider = detectProvider(opts.url);
  const dir = opts.migrationsDir ?? getDefaultMigrationsDir(provider);
  const migrations = await readMigrations(dir, provider);
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const applied =
    provider === "sqlite"
      ? await migrateSqlite(resolveSqlitePath(opts.url), migrations, log)
      : await migratePostgres(opts.url, migrations, log);
  const ms = Math.round(performance.now() - started);
  log(
    applied.length
      ? `applied ${applied.length} migration(s) in ${ms} ms: ${applied.join(", ")}`
      : `database is up to date (${migrations.length} migration(s), ${ms} ms)`,
  );
  return { applied };
}

async function migrateSqlite(file: string, migrations: Migration[], log: (msg: string) => void): Promise<string[]> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const { default: Database } = await import("better-sqlite3");
  const db = new Database(file, { timeout: LOCK_WAIT_MS });
  try {
    // WAL is a property of the file: set once here, every later connection gets it.
    db.pragma("journal_mode = WAL");
    // Prisma's table-redefinition migrations turn foreign keys off around DROP TABLE,
    // which SQLite ignores inside a transaction; off for this connection, a cascade
    // would empty child tables. Integrity is checked before each commit instead.
    db.pragma("foreign_keys = OFF");
    db.exec(SQLITE_HISTORY_TABLE);
    const readHistory = () =>
      db
        .prepare(
          `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
        )
        .all() as HistoryRow[];
    const insertRow = db.prepare(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES (?, ?, ?, ?, ?, 1)`,
    );
    const applied: string[] = [];
    // Everything between BEGIN IMMEDIATE and COMMIT is synchronous: an await while
    // holding the write lock would stall a second connection in this same process.
    for (;;) {
      db.exec("BEGIN IMMEDIATE");
      let next: Migration | undefined;
      try {
        next = findPendingMigrations(migrations, readHistory())[0];
        if (next) {
          const startedAt = formatSqliteTimestamp(new Date());
          db.exec(next.sql);
          const violations = db.pragma("foreign_key_check") as unknown[];
          if (violations.length) {
            throw new Error(`it leaves ${violations.length} row(s) violating foreign keys`);
          }
          insertRow.run(randomUUID(), next.checksum, next.name, startedAt, formatSqliteTimestamp(new Date()));
        }
        db.exec("COMMIT");
      } catch (error) {
        if (db.inTransaction) db.exec("ROLLBACK");
        throw wrapApplyError(error, next);
      }
      if (!next) return applied;
      log(`applied migration ${next.name}`);
      applied.push(next.name);
    }
  } finally {
    db.close();
  }
}

// The format the engine writes through the adapter ("2026-01-01T00:00:00.000+00:00").
function formatSqliteTimestamp(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

async function migratePostgres(url: string, migrations: Migration[], log: (msg: string) => void): Promise<string[]> {
  const { default: pgModule } = await import("pg");
  const { connectionString, schema } = parsePostgresUrl(url);
  const client: pg.Client = new pgModule.Client({ connectionString, connectionTimeoutMillis: PG_CONNECT_TIMEOUT_MS });
  // A dropped connection also rejects the pending query; without a listener the
  // 'error' event would crash the process instead.
  client.on("error", () => {});
  try {
    await client.connect();
  } catch (error) {
    // The start's first contact with the database: say which one (without its password) and why.
    const where = new URL(url);
    const cause = error instanceof Error ? error.message : String(error);
    throw new Error(
      `PostgreSQL at ${where.host}${where.pathname} (DATABASE_URL) did not answer within ${PG_CONNECT_TIMEOUT_MS / 1000} s: ${cause}`,
      { cause: error },
    );
  }
  let isLocked = false;
  try {
    if (schema) {
      const quoted = `"${schema.replaceAll('"', '""')}"`;
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoted}`);
      await client.query(`SET search_path TO ${quoted}`);
    }
    await client.query(`SET lock_timeout = ${LOCK_WAIT_MS}`);
    try {
      await client.query("SELECT pg_advisory_lock($1)", [PG_MIGRATE_LOCK_KEY]);
    } catch (error) {
      if ((error as { code?: string }).code !== "55P03") throw error;
      throw new MigrationError(
        "lock-timeout",
        `Another process held the migration lock for ${LOCK_WAIT_MS / 1000} s (pg_advisory_lock(${PG_MIGRATE_LOCK_KEY}))`,
        { cause: error },
      );
    }
    isLocked = true;
    await client.query("RESET lock_timeout");
    await client.query(PG_HISTORY_TABLE);
    const { rows } = await client.query<HistoryRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
    );
    const pending = findPendingMigrations(migrations, rows);
    const applied: string[] = [];
    for (const migration of pending) {
      try {
        await client.query("BEGIN");
        const startedAt = new Date();
        // No parameters: the simple query protocol, which accepts a whole script.
        await client.query(migration.sql);
        await client.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ($1, $2, $3, $4, clock_timestamp(), 1)`,
          [randomUUID(), migration.checksum, migration.name, startedAt],
        );
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        throw wrapApplyError(error, migration);
      }
      log(`applied migration ${migration.name}`);
      applied.push(migration.name);
    }
    return applied;
  } finally {
    if (isLocked) await client.query("SELECT pg_advisory_unlock($1)", [PG_MIGRATE_LOCK_KEY]).catch(() => {});
    await client.end();
  }
}

function wrapApplyError(error: unknown, migration: Migration | undefined): unknown {
  if (error instanceof MigrationError || !migration) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new MigrationError(
    "apply-failed",
    `Migration ${migration.name} failed and was rolled back: ${reason}. ` +
      "(Statements that cannot run in a transaction, such as CREATE INDEX CONCURRENTLY, need `prisma migrate deploy`.)",
    { cause: error },
  );
}
