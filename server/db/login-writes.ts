/**
 * The login hot path's database work: record a login (create or stamp the user, append
 * a LoginEvent), read the user back at redeem, store the refresh token's hash.
 *
 * Rules:
 * - On SQLite, prepared statements on their own connection (./sqlite-statements.ts), run on a
 *   writer thread (./sqlite-writer.ts) so that the event loop, which every login's sockets and
 *   requests share, does not spend its time in SQLite.
 * - On PostgreSQL, batched statements on their own `pg` pool (./pg-login-writes.ts).
 * - Everything else goes through Prisma.
 * - A login that carries claims merges them with the stored ones: the rare path, through Prisma
 *   on any database.
 */
import type { Db } from "./client";
import { parsePostgresUrl, resolveSqlitePath } from "./migrate";
import { upsertUserOnLogin, type LoginInput, type User } from "./users";
import { openSqliteStatements, type RefreshTokenRow, type SqliteStatementsOptions } from "./sqlite-statements";
import { startSqliteWriter, type SqliteWriterOptions } from "./sqlite-writer";
import { createPgLoginWrites } from "./pg-login-writes";
import type { DatabaseDeadline } from "./deadline";

export type { RefreshTokenRow } from "./sqlite-statements";

export interface LoginWrites {
  /** Where the SQLite statements run: a writer thread, or this thread (the writer's fallback). */
  kind: "sqlite-writer-thread" | "sqlite-statements" | "postgres-batched" | "prisma";
  recordLogin(input: LoginInput): Promise<User>;
  findUser(id: string): Promise<User | null>;
  insertRefreshToken(row: RefreshTokenRow): Promise<void>;
  close(): Promise<void>;
}

export interface SqliteLoginWritesOptions extends SqliteStatementsOptions, SqliteWriterOptions {
  /** Run the statements on this thread instead of a writer thread (tests, the benchmark's comparison). */
  inThread?: boolean;
}

export interface PostgresLoginWritesOptions {
  /** Told when an idle connection of the hot path's pool fails. */
  onPostgresConnectionError?: (error: Error) => void;
  /** Fails a write the database does not answer as `unavailable` (./deadline.ts). */
  deadline?: DatabaseDeadline;
}

export function createLoginWrites(
  opts: { url: string; prisma: Db } & SqliteLoginWritesOptions & PostgresLoginWritesOptions,
): LoginWrites {
  return opts.url.startsWith("file:")
    ? createSqliteLoginWrites(resolveSqlitePath(opts.url), opts.prisma, opts)
    : createPostgresLoginWrites(opts.url, opts.prisma, opts);
}

export function createPostgresLoginWrites(url: string, prisma: Db, options: PostgresLoginWritesOptions = {}) {
  const writes = createPgLoginWrites({
    ...parsePostgresUrl(url),
    ...(options.onPostgresConnectionError ? { onConnectionError: options.onPostgresConnectionError } : {}),
  });
  const run: DatabaseDeadline = options.deadline ?? ((start) => Promise.resolve(start()));
  return {
    kind: writes.kind,
    recordLogin(input) {
      if (input.claims && Object.keys(input.claims).length > 0) return upsertUserOnLogin(prisma, input);
      return run(() => writes.recordLogin(input));
    },
    findUser: (id) => run(() => writes.findUser(id)),
    insertRefreshToken: (row) => run(() => writes.insertRefreshToken(row)),
    close: () => writes.close(),
  } satisfies LoginWrites;
}

export function createPrismaLoginWrites(prisma: Db): LoginWrites {
  return {
    kind: "prisma",
    recordLogin: (input) => upsertUserOnLogin(prisma, input),
    findUser: (id) => prisma.user.findUnique({ where: { id } }),
    insertRefreshToken: async (row) => {
      await prisma.refreshToken.create({ data: row });
    },
    async close() {},
  };
}

export function createSqliteLoginWrites(file: string, prisma: Db, options: SqliteLoginWritesOptions = {}): LoginWrites {
  const statements = options.inThread ? openSqliteStatements(file, options) : startSqliteWriter(file, options);
  return {
    get kind() {
      return statements.kind;
    },
    recordLogin(input) {
      if (input.claims && Object.keys(input.claims).length > 0) return upsertUserOnLogin(prisma, input);
      return statements.recordLogin(input);
    },
    findUser: (id) => statements.findUser(id),
    insertRefreshToken: (row) => statements.insertRefreshToken(row),
    close: () => statements.close(),
  };
}
