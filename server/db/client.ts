import type { PrismaClient } from "../../generated/sqlite/client";
import { detectProvider, parsePostgresUrl, resolveSqlitePath } from "./migrate";
import type { DatabaseProvider } from "./migrate";

/**
 * The app's database client. Both generated clients come from one model, so they
 * share this API; the SQLite client's type stands for both.
 */
export type Db = PrismaClient;

export interface DbHandle {
  prisma: Db;
  provider: DatabaseProvider;
  close(): Promise<void>;
}

// How long a write waits for another connection's write lock (a second process, the
// migrator) before SQLITE_BUSY reaches the caller.
const SQLITE_BUSY_TIMEOUT_MS = 10_000;

// Logins run in short interactive transactions that queue for a connection (SQLite
// has one). Prisma's default wait of 2 s turned a measured burst of 500 concurrent
// logins on PostgreSQL into P2028 errors; a longer queue is the better failure.
const TRANSACTION_OPTIONS = { maxWait: 10_000 };
// As long as a transaction waits for a connection (above). Requests do not wait this long for an
// unreachable database: they fail at once (./deadline.ts).
const POSTGRES_CONNECT_TIMEOUT_MS = 10_000;

/**
 * Connects through a driver adapter. Each generated client is imported only when
 * its provider is used: loading one costs its query compiler's wasm.
 */
export async function createDb(opts: { url: string }): Promise<DbHandle> {
  const provider = detectProvider(opts.url);
  const prisma = provider === "sqlite" ? await createSqliteClient(opts.url) : await createPostgresClient(opts.url);
  return { prisma, provider, close: () => prisma.$disconnect() };
}

async function createSqliteClient(url: string): Promise<Db> {
  const [{ PrismaClient }, { PrismaBetterSqlite3 }] = await Promise.all([
    import("../../generated/sqlite/client"),
    import("@prisma/adapter-better-sqlite3"),
  ]);
  const adapter = new PrismaBetterSqlite3({ url: resolveSqlitePath(url), timeout: SQLITE_BUSY_TIMEOUT_MS });
  const prisma = new PrismaClient({ adapter, transactionOptions: TRANSACTION_OPTIONS });
  // The adapter keeps one connection, so these per-connection settings hold for
  // the client's life. WAL lets readers run beside the writer. With WAL,
  // synchronous=NORMAL skips the fsync per commit: a power cut can lose the last
  // logins but never corrupts the file, a fair trade for a login record.
  try {
    await prisma.$queryRawUnsafe("PRAGMA journal_mode = WAL");
    await prisma.$executeRawUnsafe("PRAGMA synchronous = NORMAL");
    await prisma.$executeRawUnsafe("PRAGMA foreign_keys = ON");
  } catch (error) {
    await prisma.$disconnect();
    throw error;
  }
  return prisma;
}

async function createPostgresClient(url: string): Promise<Db> {
  const [{ PrismaClient }, { PrismaPg }] = await Promise.all([
    import("../../generated/postgres/client"),
    import("@prisma/adapter-pg"),
  ]);
  const { connectionString, schema } = parsePostgresUrl(url);
  // A connection that cannot be opened (or waited for) fails after this instead of TCP's minutes,
  // so a pool does not stay full of dead attempts after an outage; keepAlive finds dropped links.
  const adapter = new PrismaPg(
    { connectionString, connectionTimeoutMillis: POSTGRES_CONNECT_TIMEOUT_MS, keepAlive: true },
    { schema },
  );
  // Same model, same generated API: only the provider differs.
  return new PrismaClient({ adapter, transactionOptions: TRANSACTION_OPTIONS }) as unknown as Db;
}
