/**
 * Fail fast when PostgreSQL stops answering (docs/protocol.md section 8, "Outages").
 *
 * A database that is stopped refuses and resets connections, which fails every query at once. One
 * that is unreachable (a network partition, a host that is gone) answers nothing: a query on an open
 * connection, or a new connection, waits for TCP's own timeouts, minutes. So every operation that
 * has no answer after SLOW_QUERY_MS asks the database probe (its own connection, PROBE_TIMEOUT_MS):
 * - the probe answers: the database is slow or busy, not down; the operation goes on waiting;
 * - it does not: the operation fails as UnavailableError("database") (503), well within a second.
 * While the database is known to be down, a slow operation fails at SLOW_QUERY_MS without a probe.
 * The operation given up on is not cancelled: a write already sent may still land once the
 * database answers again (the 503 says "not done as far as we know", never "not done").
 *
 * Every Prisma operation runs under it (withDatabaseDeadline), and so do the login hot path's own
 * PostgreSQL writes (server/db/login-writes.ts). Only for PostgreSQL: SQLite is a local file whose
 * slow answers are lock waits, not outages.
 */
import { UnavailableError } from "../availability";
import type { Db } from "./client";

/** How long an operation runs before the probe is asked whether the database is there. */
export const SLOW_QUERY_MS = 200;

export interface DatabaseDeadlineOptions {
  /** Whether the database is in an outage now (Availability.isDown). */
  isDown(): boolean;
  /** Asks the database probe; resolves false when it did not answer in time. */
  probe(): Promise<boolean>;
  slowQueryMs?: number;
}

const SLOW = Symbol("slow");

/** Runs database work under the rule above; `start` begins it (it is never started twice). */
export type DatabaseDeadline = <T>(start: () => PromiseLike<T>) => Promise<T>;

export function createDatabaseDeadline(options: DatabaseDeadlineOptions): DatabaseDeadline {
  const slowMs = options.slowQueryMs ?? SLOW_QUERY_MS;
  return async <T>(start: () => PromiseLike<T>): Promise<T> => {
    const pending = Promise.resolve(start());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const slow = new Promise<typeof SLOW>((resolve) => {
      timer = setTimeout(() => resolve(SLOW), slowMs);
    });
    try {
      const first = await Promise.race([pending, slow]);
      if (first !== SLOW) return first;
    } finally {
      clearTimeout(timer);
    }
    if (options.isDown() || !(await options.probe())) {
      // Given up on: its late failure (the connection dropping) has nobody left to tell.
      pending.catch(() => {});
      throw new UnavailableError("database");
    }
    return pending;
  };
}

/** `prisma` with every operation, and every transaction as a whole, under `deadline`. */
export function withDatabaseDeadline(prisma: Db, deadline: DatabaseDeadline): Db {
  const extended = prisma.$extends({
    query: {
      $allOperations: ({ args, query }) => deadline(() => query(args)),
    },
  }) as unknown as Db;
  // A transaction waits for its connection and its BEGIN outside any operation (up to its
  // maxWait, then a 500): it is put under the deadline as a whole.
  return new Proxy(extended, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (property !== "$transaction" || typeof value !== "function") return value;
      return (...args: unknown[]) =>
        deadline(() => (value as (...a: unknown[]) => PromiseLike<unknown>).apply(target, args));
    },
  });
}
