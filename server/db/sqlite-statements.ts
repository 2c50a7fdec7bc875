/**
 * The login hot path's SQLite statements on one better-sqlite3 connection: record a login
 * (create or stamp the user, append a LoginEvent), read the user back at redeem, store the
 * refresh token's hash. They run on the writer thread (./sqlite-writer.ts), or on the calling
 * thread where that thread could not start.
 *
 * Much faster than Prisma's batched transaction on the same file (side by side: bench/README.md,
 * "Figures behind choices in the source").
 *
 * Rules:
 * - Group commit: the writes asked for within one event-loop turn run in one transaction
 *   (BEGIN IMMEDIATE ... COMMIT), each inside its own savepoint, so one write that fails
 *   rolls back alone and the others still commit. A write's promise settles only after
 *   the COMMIT. One commit per turn instead of one per write is most of the speed-up at
 *   load; alone, a write waits one turn (setImmediate).
 * - New rows get time-ordered ids (timeOrderedId): they append to each id index.
 * - WAL checkpoints run on a worker thread (./checkpointer.ts), not inside a COMMIT here.
 * - Prisma's connection may hold SQLite's write lock across event-loop turns, so this
 *   connection never waits for the lock synchronously (busy timeout 0): on SQLITE_BUSY
 *   it retries after a short asynchronous back-off (the batch, or the read).
 * - Rows look exactly like Prisma's: DateTime as ISO-8601 text with "+00:00", Json as text.
 * - Logins with claims never come here: they merge with the stored claims, through Prisma.
 */
import Database from "better-sqlite3";
import { timeOrderedId } from "../crypto/random";
import { startCheckpointer, type CheckpointerOptions } from "./checkpointer";
import type { LoginInput, User } from "./users";

export interface RefreshTokenRow {
  hash: string;
  family: string;
  expiresAt: Date;
  userId: string;
}

/** A login without claims: the only kind the statements record. */
export type PlainLoginInput = Omit<LoginInput, "claims">;

export interface SqliteStatements {
  kind: "sqlite-statements";
  recordLogin(input: PlainLoginInput): Promise<User>;
  findUser(id: string): Promise<User | null>;
  insertRefreshToken(row: RefreshTokenRow): Promise<void>;
  /** Commits what is queued, stops the checkpointer, closes the connection. */
  close(): Promise<void>;
}

export interface SqliteStatementsOptions {
  /** Told when the WAL checkpointer fails (the automatic checkpoint is then back on). */
  onCheckpointerFailure?: (error: Error) => void;
  /** Passed to the checkpointer (tests). */
  checkpointer?: Pick<CheckpointerOptions, "intervalMs" | "onCheckpoint">;
}

interface UserRow {
  id: string;
  address: string;
  createdAt: string;
  lastLoginAt: string | null;
  claims: string;
}

const MAX_BUSY_RETRIES = 200;

export function openSqliteStatements(file: string, options: SqliteStatementsOptions = {}): SqliteStatements {
  const db = new Database(file, { timeout: 0 });
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("foreign_keys = ON");
  // Checkpoints move to a worker once it runs (see ./checkpointer.ts); until then, and if it
  // fails, SQLite's automatic checkpoint stays on.
  let isClosed = false;
  const automaticCheckpoint = db.pragma("wal_autocheckpoint", { simple: true }) as number;
  const checkpointer = startCheckpointer({
    file,
    ...options.checkpointer,
    onFailure: (error) => {
      if (!isClosed) db.pragma(`wal_autocheckpoint = ${automaticCheckpoint}`);
      options.onCheckpointerFailure?.(error);
    },
  }).then(
    (started) => {
      if (!isClosed) db.pragma("wal_autocheckpoint = 0");
      return started;
    },
    (error: unknown) => {
      options.onCheckpointerFailure?.(error instanceof Error ? error : new Error(String(error)));
      return undefined;
    },
  );
  const upsertUser = db.prepare<[string, string, string, string], UserRow>(
    `INSERT INTO "User" ("id", "address", "claims", "createdAt", "lastLoginAt") VALUES (?, ?, '{}', ?, ?)
     ON CONFLICT ("address") DO UPDATE SET "lastLoginAt" = excluded."lastLoginAt"
     RETURNING "id", "address", "createdAt", "lastLoginAt", "claims"`,
  );
  const insertEvent = db.prepare<[string, string, string, string | null, string | null, string]>(
    `INSERT INTO "LoginEvent" ("id", "userId", "at", "ip", "userAgent", "method") VALUES (?, ?, ?, ?, ?, ?)`,
  );
  const selectUser = db.prepare<[string], UserRow>(
    `SELECT "id", "address", "createdAt", "lastLoginAt", "claims" FROM "User" WHERE "id" = ?`,
  );
  const insertRefresh = db.prepare<[string, string, string, string, string, string]>(
    `INSERT INTO "RefreshToken" ("id", "hash", "family", "expiresAt", "createdAt", "userId") VALUES (?, ?, ?, ?, ?, ?)`,
  );
  // Both statements or neither: the group commit runs each write in its own savepoint.
  const recordLoginStatements = (input: LoginInput, at: string) => {
    const user = upsertUser.get(timeOrderedId(), input.address, at, at) as UserRow;
    insertEvent.run(timeOrderedId(), user.id, at, input.ip ?? null, input.userAgent ?? null, input.method);
    return user;
  };
  const writes = createGroupCommit(db);

  return {
    kind: "sqlite-statements",
    async recordLogin(input) {
      return toUser(await writes.run(() => recordLoginStatements(input, toSqliteDate(new Date()))));
    },
    async findUser(id) {
      const row = await withBusyRetry(() => selectUser.get(id));
      return row ? toUser(row) : null;
    },
    async insertRefreshToken(row) {
      const now = toSqliteDate(new Date());
      await writes.run(() => {
        insertRefresh.run(timeOrderedId(), row.hash, row.family, toSqliteDate(row.expiresAt), now, row.userId);
      });
    },
    async close() {
      isClosed = true;
      writes.close();
      await (await checkpointer)?.stop();
      db.close();
    },
  };
}

interface PendingWrite {
  work: () => unknown;
  resolve: (value: never) => void;
  reject: (reason: unknown) => void;
}

/** See the header's "Group commit" rule. */
export function createGroupCommit(db: Database.Database) {
  let queue: PendingWrite[] = [];
  let flushing: { immediate: NodeJS.Immediate } | { timeout: NodeJS.Timeout } | undefined;
  let busyAttempts = 0;
  let isClosed = false;
  const savepoint = (work: () => unknown) => db.transaction(work)();

  /** Set when a write's error made SQLite roll back the whole batch (see runBatch). */
  let rolledBackBy: { error: unknown } | undefined;
  const runBatch = db.transaction((batch: PendingWrite[]) =>
    batch.map((write): { ok: true; value: unknown } | { ok: false; error: unknown } => {
      // Some errors (SQLITE_FULL, IOERR, NOMEM, a RAISE(ROLLBACK) trigger) end the whole
      // transaction, not just the savepoint: the writes before were undone, and the ones after
      // must not run, or each would commit on its own. The COMMIT then fails and the batch
      // is refused as a whole with that first error.
      if (rolledBackBy) return { ok: false, error: rolledBackBy.error };
      try {
        // Nested inside runBatch, better-sqlite3 runs this as a SAVEPOINT.
        return { ok: true, value: savepoint(write.work) };
      } catch (error) {
        if (!db.inTransaction) rolledBackBy = { error };
        return { ok: false, error };
      }
    }),
  );

  function flush() {
    flushing = undefined;
    const batch = queue;
    queue = [];
    let outcomes;
    rolledBackBy = undefined;
    try {
      outcomes = runBatch.immediate(batch);
    } catch (error) {
      if ((error as { code?: string }).code === "SQLITE_BUSY" && busyAttempts < MAX_BUSY_RETRIES && !isClosed) {
        // Nothing is kept: BEGIN IMMEDIATE did not get the lock (or the transaction was rolled
        // back). Put the batch back in front.
        busyAttempts++;
        queue = batch.concat(queue);
        flushing = { timeout: setTimeout(flush, Math.min(busyAttempts, 20)) };
        return;
      }
      busyAttempts = 0;
      // Assigned inside runBatch: TypeScript cannot see that, hence the annotation.
      const rolledBack = rolledBackBy as { error: unknown } | undefined;
      const cause = rolledBack ? rolledBack.error : error;
      for (const write of batch) write.reject(cause);
      schedule();
      return;
    }
    busyAttempts = 0;
    outcomes.forEach((outcome, i) => {
      const write = batch[i]!;
      if (outcome.ok) write.resolve(outcome.value as never);
      else write.reject(outcome.error);
    });
    schedule();
  }

  function schedule() {
    if (flushing === undefined && queue.length > 0) flushing = { immediate: setImmediate(flush) };
  }

  return {
    /** Runs `work` (synchronous statements) in the next group commit; settles after its COMMIT. */
    run<T>(work: () => T): Promise<T> {
      if (isClosed) return Promise.reject(new Error("login writes are closed"));
      return new Promise<T>((resolve, reject) => {
        queue.push({ work, resolve: resolve as (value: never) => void, reject });
        schedule();
      });
    },
    /** Commits what is queued now (synchronously, without waiting for the lock) and refuses new writes. */
    close() {
      isClosed = true;
      if (flushing && "immediate" in flushing) clearImmediate(flushing.immediate);
      if (flushing && "timeout" in flushing) clearTimeout(flushing.timeout);
      flushing = undefined;
      if (queue.length > 0) flush();
    },
  };
}

function toSqliteDate(date: Date): string {
  return date.toISOString().replace("Z", "+00:00");
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    address: row.address,
    createdAt: new Date(row.createdAt),
    lastLoginAt: row.lastLoginAt === null ? null : new Date(row.lastLoginAt),
    claims: JSON.parse(row.claims) as User["claims"],
  };
}

async function withBusyRetry<T>(run: () => T): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return run();
    } catch (err) {
      const isBusy = (err as { code?: string }).code === "SQLITE_BUSY";
      if (!isBusy || attempt >= MAX_BUSY_RETRIES) throw err;
      await new Promise((resolve) => setTimeout(resolve, Math.min(1 + attempt, 20)));
    }
  }
}
