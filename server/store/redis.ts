/**
 * Redis stores: shared by every app node. Needs Redis >= 6.2 (SET PXAT, KEEPTTL).
 *
 * Rules:
 * - A login session is one key `${prefix}login:${id}` holding the record as JSON; it
 *   expires at keepUntil (epoch ms, so the nodes' clocks must agree, as they must for
 *   the sessions' own expiresAt anyway).
 * - Every transition is ONE Lua script: read, check, merge and write happen atomically
 *   on the Redis server, never read-then-write from a node.
 * - A state in ENDED_STATES is never left, whatever `from` says.
 * - `expect` values are compared on SHA-1 digests (see TRANSITION_SCRIPT).
 * - A rate limit is one sorted set `${prefix}rlw:${windowMs}:${key}` of the hits accepted in
 *   the sliding window (scored by Redis's clock), pruned, counted and added to by one script;
 *   it expires with its newest hit.
 * - A replay-cache claim is one `SET ${prefix}replay:${key} 1 PXAT expiresAt NX`: atomic,
 *   so exactly one node's claim wins, and the key is gone at expiresAt.
 * - Outages fail fast: no offline queue, no retry of a command, COMMAND_TIMEOUT_MS per
 *   command; a connection failure reaches the caller as UnavailableError("redis") (503),
 *   a reply error (a bug) as itself.
 * - The epoch: `${prefix}epoch` holds "<run_id> <epoch ms>". After every (re)connect a node
 *   compares it with the server's run_id; when the key is missing (Redis came back empty)
 *   or names another run (Redis restarted, maybe from an older snapshot) one script sets a
 *   new epoch, the current second of Redis's clock, and every node adopts it. Records made
 *   before it may be lost, so what was issued before it is refused (see types.ts). Until a
 *   node knows the epoch of its connection, readEpoch() waits for it. The first reconnect
 *   attempt comes RECONNECT_MIN_MS after a drop, so a new epoch's second is always later
 *   than every claim the lost server had taken.
 */
import { createHash, randomBytes } from "node:crypto";
import { Redis, ReplyError } from "ioredis";
import { UnavailableError } from "../availability";
import { ENDED_STATES } from "../../lib/protocol/login";
import { createRedisPresenceStore, presenceNodesKey } from "./presence-redis";
import type {
  ConnectionCounter,
  KeyValueStore,
  LoginSessionRecord,
  LoginSessionStore,
  RateLimiter,
  RateLimitResult,
  ReplayCache,
  Stores,
  TransitionRequest,
  TransitionResult,
} from "./types";

const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** A command that has no answer by then fails (503 within a second, with the boundary's work). */
export const COMMAND_TIMEOUT_MS = 800;
const RECONNECT_MIN_MS = 1_000;
const RECONNECT_MAX_MS = 2_000;
/** Reply errors that mean "not now" rather than "wrong command". */
const TRANSIENT_REPLY = /^(LOADING|MASTERDOWN|READONLY|BUSY|TRYAGAIN|CLUSTERDOWN)\b/;

/* KEYS[1] the epoch key. ARGV[1] the server's run_id. Returns "<run_id> <epoch ms>". */
const EPOCH_SCRIPT = `
local current = redis.call('GET', KEYS[1])
if current then
  local space = string.find(current, ' ', 1, true)
  if space and string.sub(current, 1, space - 1) == ARGV[1] then return current end
end
local t = redis.call('TIME')
local value = ARGV[1] .. ' ' .. (tonumber(t[1]) * 1000)
redis.call('SET', KEYS[1], value)
return value
`;

/** A connection failure becomes UnavailableError("redis"); a reply error (a bug) stays itself. */
export function toRedisError(error: unknown): unknown {
  if (error instanceof UnavailableError) return error;
  if (error instanceof ReplyError && !TRANSIENT_REPLY.test((error as Error).message)) return error;
  return new UnavailableError("redis", error);
}

/** Every method of `target` with its failures passed through toRedisError. */
function guardMethods<T extends object>(target: T): T {
  const guarded: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(target)) {
    guarded[name] =
      typeof value === "function"
        ? async (...args: unknown[]) => {
            try {
              return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
            } catch (error) {
              throw toRedisError(error);
            }
          }
        : value;
  }
  return guarded as T;
}

/*
 * KEYS[1] the session key. ARGV[1] JSON {from, to, expect, patch, liveAt?}: expect maps a
 * field to the SHA-1 hex of the value it must hold, or null for "must be absent"; patch maps
 * a field to its new value, or null to remove it; liveAt and issuedSince as in TransitionRequest. ARGV[2]
 * keepUntil epoch ms or "" (only ever extends the key's life); ARGV[3] forgetAt epoch ms or ""
 * (sets it, sooner or later).
 * Returns {1, newJson} | {0, currentJson} | {-1}.
 *
 * Lua has no constant-time string compare. The script compares SHA-1 digests of the
 * stored and expected values instead, so a timing difference can reveal at most a
 * prefix of a digest, which does not help anyone find a value matching it (that needs a
 * SHA-1 preimage, which collisions do not give). On top of that the compared values are
 * already unguessable: the SHA-256 of a 256-bit browser secret and a 256-bit one-time
 * code that lives 60 s and is used once. SHA-1 is the one hash Redis scripts offer.
 *
 * cjson encodes numbers with 14 significant digits, which keeps epoch ms (13 digits)
 * exact; it encodes an empty array as {}, which parseRecord() turns back.
 */
const TRANSITION_SCRIPT = `
local raw = redis.call('GET', KEYS[1])
if not raw then return {-1} end
local rec = cjson.decode(raw)
local req = cjson.decode(ARGV[1])
local allowed = false
for _, s in ipairs(req.from) do
  if rec.state == s then allowed = true break end
end
if not allowed then return {0, raw} end
if req.liveAt then
  local deadline = rec.expiresAt
  if rec.state == 'approved' and rec.codeExpiresAt then deadline = rec.codeExpiresAt end
  if req.liveAt >= deadline then return {0, raw} end
end
if req.issuedSince and rec.issuedAt < req.issuedSince then return {0, raw} end
for field, digest in pairs(req.expect) do
  local actual = rec[field]
  if digest == cjson.null then
    if actual ~= nil then return {0, raw} end
  elseif type(actual) ~= 'string' or redis.sha1hex(actual) ~= digest then
    return {0, raw}
  end
end
for field, value in pairs(req.patch) do
  if field ~= 'id' and field ~= 'state' then
    if value == cjson.null then rec[field] = nil else rec[field] = value end
  end
end
rec.state = req.to
local out = cjson.encode(rec)
redis.call('SET', KEYS[1], out, 'KEEPTTL')
if ARGV[2] ~= '' then
  local pttl = redis.call('PTTL', KEYS[1])
  if pttl >= 0 then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    if tonumber(ARGV[2]) > now + pttl then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
  end
end
if ARGV[3] ~= '' then redis.call('PEXPIREAT', KEYS[1], ARGV[3]) end
return {1, out}
`;

/*
 * A sliding window (RateLimiter in ./types.ts): KEYS[1] a sorted set of the accepted hits, scored
 * by Redis's own clock in ms (one clock for every node); ARGV[1] windowMs, ARGV[2] the limit,
 * ARGV[3] a member unique to this hit. Returns {1, remaining} or {0, retryAfterMs}. The set
 * expires with its newest hit, and a refused hit adds nothing.
 */
const RATE_LIMIT_SCRIPT = `
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local count = redis.call('ZCARD', KEYS[1])
if count >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], count - limit, count - limit, 'WITHSCORES')
  return {0, math.max(1, tonumber(oldest[2]) + window - now)}
end
redis.call('ZADD', KEYS[1], now, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window)
return {1, limit - count - 1}
`;

export interface RedisClientOptions {
  /** How long to wait at start for Redis to answer before giving up. */
  connectTimeoutMs?: number;
  /** Connection errors after start (ioredis keeps reconnecting); log them here. */
  onError?: (error: Error) => void;
  /** Per-command timeout (default COMMAND_TIMEOUT_MS); 0 for none (blocking reads). */
  commandTimeoutMs?: number;
}

/** ioredis options that make a command fail fast while Redis is away (see the rules above). */
export function fastFailRedisOptions(commandTimeoutMs = COMMAND_TIMEOUT_MS) {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    ...(commandTimeoutMs > 0 ? { commandTimeout: commandTimeoutMs } : {}),
    retryStrategy: (attempt: number) => Math.min(RECONNECT_MIN_MS + (attempt - 1) * 200, RECONNECT_MAX_MS),
  };
}

/**
 * Connects to Redis and resolves once it answers, or rejects with a clear message after
 * connectTimeoutMs. Commands fail after a couple of reconnect attempts instead of
 * queueing forever, so a request fails fast while Redis is away.
 */
export async function createRedisClient(url: string, options: RedisClientOptions = {}): Promise<Redis> {
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const client = new Redis(url, {
    lazyConnect: false,
    connectTimeout: timeoutMs,
    ...fastFailRedisOptions(options.commandTimeoutMs),
    // The commands of one event-loop iteration go out in one write: at load, far fewer
    // syscalls per login (writes were the largest item of the node's CPU profile).
    enableAutoPipelining: true,
  });
  let lastError: Error | undefined;
  // Without a listener ioredis prints every reconnect error as "Unhandled error event".
  client.on("error", (error: Error) => {
    lastError = error;
    options.onError?.(error);
  });

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off("ready", onReady);
      client.disconnect();
      const cause = lastError ? `: ${lastError.message}` : "";
      reject(new Error(`Redis at ${describeRedisUrl(url)} did not answer within ${timeoutMs} ms${cause}`));
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once("ready", onReady);
  });
  return client;
}

/** The URL without credentials, fit for logs and error messages. */
function describeRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return "(unparsable REDIS_URL)";
  }
}

export async function createRedisStores(opts: {
  url: string;
  prefix: string;
  connectTimeoutMs?: number;
  onError?: (error: Error) => void;
}): Promise<Stores> {
  const client = await createRedisClient(opts.url, { connectTimeoutMs: opts.connectTimeoutMs, onError: opts.onError });
  const runTransition = createScriptRunner(client, TRANSITION_SCRIPT);
  const runRateLimit = createScriptRunner(client, RATE_LIMIT_SCRIPT);
  const sessionKey = (id: string) => `${opts.prefix}login:${id}`;
  let isClosed = false;

  const epochKey = `${opts.prefix}epoch`;
  const runEpoch = createScriptRunner(client, EPOCH_SCRIPT);
  const resetListeners = new Set<(epoch: number) => void>();
  /** The epoch of the current connection; undefined from a drop until it is read again. */
  let epoch: number | undefined;
  let lastEpoch: number | undefined;
  let epochRead: Promise<number> | undefined;
  const readEpochFromServer = (): Promise<number> =>
    (epochRead ??= (async () => {
      const info = await client.info("server");
      const runId = /run_id:(\w+)/.exec(info)?.[1] ?? "unknown";
      const value = String(await runEpoch([epochKey], [runId]));
      const read = Number(value.slice(value.indexOf(" ") + 1));
      if (!Number.isFinite(read)) throw new Error(`unreadable epoch ${value}`);
      const isReset = lastEpoch !== undefined && read !== lastEpoch;
      epoch = read;
      lastEpoch = read;
      if (isReset) for (const listener of [...resetListeners]) listener(read);
      return read;
    })().finally(() => {
      epochRead = undefined;
    }));
  client.on("close", () => {
    epoch = undefined;
  });
  client.on("ready", () => {
    readEpochFromServer().catch(() => {});
  });
  await readEpochFromServer().catch(async (error: unknown) => {
    await client.quit().catch(() => client.disconnect());
    throw error;
  });

  const loginSessions: LoginSessionStore = {
    async create(session, keepUntil) {
      const result = await client.set(
        sessionKey(session.id),
        JSON.stringify(session),
        "PXAT",
        Math.ceil(keepUntil),
        "NX",
      );
      if (result !== "OK") throw new Error("login session id already exists");
    },

    async get(id) {
      const raw = await client.get(sessionKey(id));
      return raw === null ? null : parseRecord(raw);
    },

    async transition(id: string, request: TransitionRequest): Promise<TransitionResult> {
      const expect: Record<string, string | null> = {};
      for (const [field, value] of Object.entries(request.expect ?? {})) {
        expect[field] = value === undefined ? null : sha1Hex(value);
      }
      const patch: Record<string, unknown> = {};
      for (const [field, value] of Object.entries(request.patch ?? {})) patch[field] = value ?? null;
      const payload = JSON.stringify({
        from: request.from.filter((state) => !ENDED_STATES.includes(state)),
        to: request.to,
        expect,
        patch,
        ...(request.liveAt === undefined ? {} : { liveAt: request.liveAt }),
        ...(request.issuedSince === undefined ? {} : { issuedSince: request.issuedSince }),
      });
      const keepUntil = request.keepUntil === undefined ? "" : String(Math.ceil(request.keepUntil));
      const forgetAt = request.forgetAt === undefined ? "" : String(Math.ceil(request.forgetAt));

      const reply = (await runTransition([sessionKey(id)], [payload, keepUntil, forgetAt])) as [number, string?];
      const [status, raw] = reply;
      if (status === -1 || raw === undefined) return { ok: false, session: null };
      return { ok: status === 1, session: parseRecord(raw) } as TransitionResult;
    },
  };

  // Members of the rate limiter's sets: unique per hit across nodes (a random prefix per process).
  const hitPrefix = randomBytes(6).toString("base64url");
  let hitCount = 0;
  const rateLimiter: RateLimiter = {
    async hit(key, limit, windowMs): Promise<RateLimitResult> {
      const window = Math.max(1, Math.ceil(windowMs));
      const member = `${hitPrefix}:${(hitCount = (hitCount + 1) % Number.MAX_SAFE_INTEGER)}`;
      const reply = (await runRateLimit(
        [`${opts.prefix}rlw:${window}:${key}`],
        [String(window), String(limit), member],
      )) as [number, number];
      const [accepted, value] = reply;
      return accepted === 1 ? { ok: true, remaining: value } : { ok: false, retryAfterMs: value };
    },
  };

  const replayCache: ReplayCache = {
    async claim(key, expiresAt) {
      // Redis refuses a PXAT in the past; a key that is already due needs no holding anyway.
      const at = Math.max(Math.ceil(expiresAt), Date.now() + 1);
      return (await client.set(`${opts.prefix}replay:${key}`, "1", "PXAT", at, "NX")) === "OK";
    },
  };

  // Push login's small values (KeyValueStore): GETDEL and SET ... GET are each one atomic command.
  const valueKey = (key: string) => `${opts.prefix}kv:${key}`;
  const pxatOf = (expiresAt: number) => Math.max(Math.ceil(expiresAt), Date.now() + 1);
  const keyValues: KeyValueStore = {
    async put(key, value, expiresAt) {
      // A value already due is not stored (Redis refuses a PXAT in the past).
      if (expiresAt <= Date.now()) await client.del(valueKey(key));
      else await client.set(valueKey(key), value, "PXAT", pxatOf(expiresAt));
    },
    async take(key) {
      return client.getdel(valueKey(key));
    },
    async swap(key, value, expiresAt) {
      return client.set(valueKey(key), value, "PXAT", pxatOf(expiresAt), "GET");
    },
    async get(key) {
      return client.get(valueKey(key));
    },
  };

  const runAcquireConnection = createScriptRunner(client, ACQUIRE_CONNECTION_SCRIPT);
  const runReleaseConnection = createScriptRunner(client, RELEASE_CONNECTION_SCRIPT);
  const connectionsKey = (ip: string) => `${opts.prefix}conns-ip:${ip}`;
  const connections: ConnectionCounter = {
    async acquire(ip, nodeId, limit) {
      const keys = [connectionsKey(ip), presenceNodesKey(opts.prefix)];
      return (await runAcquireConnection(keys, [nodeId, String(limit), String(CONNECTION_KEY_TTL_MS)])) === 1;
    },
    async release(ip, nodeId) {
      await runReleaseConnection([connectionsKey(ip)], [nodeId]);
    },
  };

  return {
    kind: "redis",
    connections: guardMethods(connections),
    readEpoch() {
      if (epoch !== undefined) return epoch;
      return readEpochFromServer().catch((error: unknown) => {
        throw toRedisError(error);
      });
    },
    onReset(listener) {
      resetListeners.add(listener);
    },
    async ping() {
      await client.ping().catch((error: unknown) => {
        throw toRedisError(error);
      });
    },
    loginSessions: guardMethods(loginSessions),
    rateLimiter: guardMethods(rateLimiter),
    replayCache: guardMethods(replayCache),
    keyValues: guardMethods(keyValues),
    presence: guardMethods(createRedisPresenceStore(client, opts.prefix, createScriptRunner)),
    async close() {
      if (isClosed) return;
      isClosed = true;
      // QUIT lets pending replies arrive; if the link is already down, just drop it.
      await client.quit().catch(() => client.disconnect());
    },
  };
}

/**
 * KEYS: the IP's hash (node id -> open sockets), the presence store's node leases (sorted set,
 * lease end in Redis's clock). ARGV: nodeId, limit, key TTL (ms). Counts of nodes whose lease
 * lapsed or was forgotten are dropped; the caller's own count always counts. Returns 1 | 0.
 */
const ACQUIRE_CONNECTION_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local fields = redis.call('HGETALL', KEYS[1])
local total = 0
for i = 1, #fields, 2 do
  local node = fields[i]
  local lease = redis.call('ZSCORE', KEYS[2], node)
  if node == ARGV[1] or (lease and tonumber(lease) >= now) then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], node)
  end
end
if total >= tonumber(ARGV[2]) then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** KEYS: the IP's hash. ARGV: nodeId. Never below zero. */
const RELEASE_CONNECTION_SCRIPT = `
local count = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if count <= 1 then redis.call('HDEL', KEYS[1], ARGV[1]) else redis.call('HINCRBY', KEYS[1], ARGV[1], -1) end
return 1
`;

/**
 * A safety net only: an IP's counts go away this long after its last connect, so counts a
 * failed release left behind do not stay for good (sockets open longer than this undercount).
 */
const CONNECTION_KEY_TTL_MS = 24 * 3600 * 1000;

/** EVALSHA, loading the script with EVAL when the server does not know it (yet, or after a restart). */
function createScriptRunner(client: Redis, script: string) {
  const sha = createHash("sha1").update(script).digest("hex");
  return async (keys: string[], args: string[]): Promise<unknown> => {
    try {
      return await client.evalsha(sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return client.eval(script, keys.length, ...keys, ...args);
    }
  };
}

function parseRecord(raw: string): LoginSessionRecord {
  const record = JSON.parse(raw) as LoginSessionRecord;
  // Lua's cjson writes an empty array as {}.
  if (!Array.isArray(record.matchChoices)) record.matchChoices = [];
  if (!Array.isArray(record.requiredClaims)) record.requiredClaims = [];
  return record;
}

function sha1Hex(value: string): string {
  return createHash("sha1").update(value).digest("hex");
}
