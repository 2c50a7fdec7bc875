/**
 * The login hot path's PostgreSQL writes with `pg` directly: record a login (create or stamp the
 * user, append a LoginEvent), read the user back at redeem, store the refresh token's hash.
 *
 * Measured on one node with Redis stores (2 cores, same run): through Prisma a login cost 8 round
 * trips (BEGIN, upsert, a SELECT for the relation, INSERT event, its SELECT, COMMIT, then the
 * redeem's SELECT and INSERT) and about 9 ms of node CPU; see bench/README.md for the figures here.
 *
 * Rules:
 * - Batching: the calls of one kind made while that kind's statements are busy wait and go
 *   together as ONE statement (arrays through unnest / ANY), at most MAX_IN_FLIGHT statements
 *   per kind at once; alone, a call waits one turn (setImmediate). One statement is atomic on its
 *   own, so no BEGIN/COMMIT round trips.
 * - A batch that fails is run again one call at a time, so one bad call (a foreign key that
 *   broke) fails alone and the others still commit.
 * - Named prepared statements: each connection parses each statement once.
 * - Rows look exactly like Prisma's: TIMESTAMP(3) without time zone holding UTC, Json as jsonb,
 *   time-ordered ids (timeOrderedId) so each id index grows at its end.
 * - ON CONFLICT cannot change one row twice in a statement, so a batch holding two logins of one
 *   address upserts that user once (with the later time); each login still gets its event.
 * - Logins with claims never come here: they merge with the stored claims, through Prisma.
 */
import pg from "pg";
import { timeOrderedId } from "../crypto/random";
import type { RefreshTokenRow } from "./sqlite-statements";
import type { PlainLoginInput } from "./sqlite-statements";
import type { User } from "./users";

export interface PgLoginWritesOptions {
  /** A postgresql:// URL without Prisma's `schema` parameter (see parsePostgresUrl). */
  connectionString: string;
  /** Prisma's `schema` parameter; tables live in "public" without it, as Prisma's. */
  schema?: string;
  /** Connections of this pool (Prisma keeps its own for everything else). */
  poolSize?: number;
  /** Told when an idle connection fails (the pool replaces it on the next call). */
  onConnectionError?: (error: Error) => void;
}

export interface PgLoginWrites {
  kind: "postgres-batched";
  recordLogin(input: PlainLoginInput): Promise<User>;
  findUser(id: string): Promise<User | null>;
  insertRefreshToken(row: RefreshTokenRow): Promise<void>;
  /** Waits for what is queued, then closes the pool. */
  close(): Promise<void>;
}

const MAX_IN_FLIGHT = 2;
const MAX_BATCH = 500;
const DEFAULT_POOL_SIZE = 6;
const TIMESTAMP_OID = 1114;
const CONNECT_TIMEOUT_MS = 10_000;

interface UserRow {
  id: string;
  address: string;
  createdAt: Date;
  lastLoginAt: Date | null;
  claims: User["claims"];
}

/** TIMESTAMP without time zone holds UTC here (as Prisma writes it): read it as UTC, whatever TZ says. */
function parseUtcTimestamp(value: string): Date {
  return new Date(`${value.replace(" ", "T")}Z`);
}

const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === TIMESTAMP_OID && format !== "binary"
      ? parseUtcTimestamp
      : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};

const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

export function createPgLoginWrites(options: PgLoginWritesOptions): PgLoginWrites {
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.poolSize ?? DEFAULT_POOL_SIZE,
    // As Prisma's transaction maxWait (./client.ts): a login waits this long for a connection.
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
    types,
  });
  // An idle connection that drops emits here; without a listener it would crash the process.
  pool.on("error", (error) => options.onConnectionError?.(error));
  const s = quoteIdent(options.schema ?? "public");
  // The schema is part of each statement's name: one process may write to two schemas (tests).
  const name = (statement: string) => `wl_${statement}_${options.schema ?? "public"}`;

  const recordLoginSql = `WITH input AS (
      SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp(3)[], $5::text[], $6::text[], $7::text[])
        AS t(event_id, user_id, address, at, ip, user_agent, method)
    ), upserted AS (
      INSERT INTO ${s}."User" AS u ("id", "address", "claims", "createdAt", "lastLoginAt")
      SELECT DISTINCT ON (address) user_id, address, '{}'::jsonb, at, at FROM input ORDER BY address, at DESC
      ON CONFLICT ("address") DO UPDATE SET "lastLoginAt" = excluded."lastLoginAt"
      RETURNING u."id", u."address", u."createdAt", u."lastLoginAt", u."claims"
    ), events AS (
      INSERT INTO ${s}."LoginEvent" ("id", "userId", "at", "ip", "userAgent", "method")
      SELECT i.event_id, p."id", i.at, i.ip, i.user_agent, i.method FROM input i JOIN upserted p ON p."address" = i.address
    )
    SELECT "id", "address", "createdAt", "lastLoginAt", "claims" FROM upserted`;
  const findUsersSql = `SELECT "id", "address", "createdAt", "lastLoginAt", "claims" FROM ${s}."User" WHERE "id" = ANY($1::text[])`;
  const insertRefreshSql = `INSERT INTO ${s}."RefreshToken" ("id", "hash", "family", "expiresAt", "createdAt", "userId")
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamp(3)[], $5::timestamp(3)[], $6::text[])`;

  const recordLogins = createBatcher(async (inputs: Array<{ input: PlainLoginInput; at: string }>) => {
    const eventIds: string[] = [];
    const userIds: string[] = [];
    const addresses: string[] = [];
    const ats: string[] = [];
    const ips: Array<string | null> = [];
    const userAgents: Array<string | null> = [];
    const methods: string[] = [];
    for (const { input, at } of inputs) {
      eventIds.push(timeOrderedId());
      userIds.push(timeOrderedId());
      addresses.push(input.address);
      ats.push(at);
      ips.push(input.ip ?? null);
      userAgents.push(input.userAgent ?? null);
      methods.push(input.method);
    }
    const values = [eventIds, userIds, addresses, ats, ips, userAgents, methods];
    const result = await pool.query<UserRow>({ name: name("record_login"), text: recordLoginSql, values });
    const byAddress = new Map(result.rows.map((row) => [row.address, row]));
    return inputs.map(({ input }) => {
      const row = byAddress.get(input.address);
      if (!row) throw new Error("login not recorded");
      return toUser(row);
    });
  });

  const findUsers = createBatcher(async (ids: string[]) => {
    const result = await pool.query<UserRow>({ name: name("find_users"), text: findUsersSql, values: [ids] });
    const byId = new Map(result.rows.map((row) => [row.id, row]));
    return ids.map((id) => {
      const row = byId.get(id);
      return row ? toUser(row) : null;
    });
  });

  const insertRefreshTokens = createBatcher(async (rows: RefreshTokenRow[]) => {
    const now = new Date().toISOString();
    const values: string[][] = [[], [], [], [], [], []];
    for (const row of rows) {
      const fields = [timeOrderedId(), row.hash, row.family, row.expiresAt.toISOString(), now, row.userId];
      fields.forEach((value, i) => values[i]!.push(value));
    }
    await pool.query({ name: name("insert_refresh"), text: insertRefreshSql, values });
    return rows.map(() => undefined);
  });

  let isClosed = false;
  const refuseWhenClosed = () => {
    if (isClosed) throw new Error("login writes are closed");
  };
  return {
    kind: "postgres-batched",
    async recordLogin(input) {
      refuseWhenClosed();
      return recordLogins.run({ input, at: new Date().toISOString() });
    },
    async findUser(id) {
      refuseWhenClosed();
      return findUsers.run(id);
    },
    async insertRefreshToken(row) {
      refuseWhenClosed();
      await insertRefreshTokens.run(row);
    },
    async close() {
      if (isClosed) return;
      isClosed = true;
      await Promise.all([recordLogins.drain(), findUsers.drain(), insertRefreshTokens.drain()]);
      await pool.end();
    },
  };
}

function toUser(row: UserRow): User {
  return {
    id: row.id,
    address: row.address,
    createdAt: row.createdAt,
    lastLoginAt: row.lastLoginAt,
    claims: row.claims,
  };
}

interface Waiting<In, Out> {
  input: In;
  resolve: (value: Out) => void;
  reject: (reason: unknown) => void;
}

/** See the header's "Batching" rule: `runBatch` answers one output per input, in order. */
export function createBatcher<In, Out>(
  runBatch: (inputs: In[]) => Promise<Out[]>,
  limits: { maxInFlight?: number; maxBatch?: number } = {},
) {
  const maxInFlight = limits.maxInFlight ?? MAX_IN_FLIGHT;
  const maxBatch = limits.maxBatch ?? MAX_BATCH;
  let queue: Array<Waiting<In, Out>> = [];
  let inFlight = 0;
  let isScheduled = false;
  let onIdle: Array<() => void> = [];

  function schedule() {
    if (isScheduled || queue.length === 0 || inFlight >= maxInFlight) return;
    isScheduled = true;
    setImmediate(flush);
  }

  async function runOne(batch: Array<Waiting<In, Out>>) {
    const outputs = await runBatch(batch.map((w) => w.input));
    batch.forEach((w, i) => w.resolve(outputs[i] as Out));
  }

  async function send(batch: Array<Waiting<In, Out>>) {
    try {
      await runOne(batch);
    } catch (error) {
      if (batch.length === 1) {
        batch[0]!.reject(error);
        return;
      }
      // One of them may be the cause: each alone, so only that one fails.
      await Promise.all(batch.map((w) => runOne([w]).catch((single: unknown) => w.reject(single))));
    }
  }

  function flush() {
    isScheduled = false;
    while (queue.length > 0 && inFlight < maxInFlight) {
      const batch = queue.length <= maxBatch ? queue : queue.slice(0, maxBatch);
      queue = queue.length <= maxBatch ? [] : queue.slice(maxBatch);
      inFlight++;
      void send(batch).finally(() => {
        inFlight--;
        if (queue.length > 0) schedule();
        else if (inFlight === 0) {
          const waiting = onIdle;
          onIdle = [];
          for (const resolve of waiting) resolve();
        }
      });
    }
  }

  return {
    run(input: In): Promise<Out> {
      return new Promise<Out>((resolve, reject) => {
        queue.push({ input, resolve, reject });
        schedule();
      });
    },
    /** Resolves once nothing is queued or in flight. */
    drain(): Promise<void> {
      if (queue.length === 0 && inFlight === 0) return Promise.resolve();
      return new Promise((resolve) => onIdle.push(resolve));
    },
  };
}
