/**
 * In-memory stores: the embedded default for a single node.
 *
 * Rules:
 * - Every transition is a synchronous compare-and-set inside one call, so it is atomic
 *   within this process (there is no await between the check and the write). It is NOT
 *   shared between nodes: run several nodes with Redis instead.
 * - A state in ENDED_STATES is never left, whatever `from` says.
 * - `expect` values (the SHA-256 of the browser secret, the one-time code) are compared
 *   in constant time, on SHA-256 digests so that unequal lengths take the same path.
 * - Records are copied in and out, so callers can never change a stored record.
 * - A session is forgotten at keepUntil: lazily on access and by a periodic sweep, so
 *   idle sessions cost one Map entry each and no timer.
 * - A replay-cache key is held until its expiresAt (swept the same way); a claim is a
 *   synchronous check-and-set, so exactly one of concurrent claims wins.
 */
import { ENDED_STATES } from "../../lib/protocol/login";
import { timingSafeEqualString } from "../crypto/random";
import { createMemoryPresenceStore } from "./presence-memory";
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

const SWEEP_INTERVAL_MS = 10_000;

interface SessionEntry {
  record: LoginSessionRecord;
  keepUntil: number;
}

interface WindowEntry {
  /** When each hit was accepted (epoch ms), oldest first; those before `head` have left the window. */
  hits: number[];
  head: number;
  /** When the newest of them leaves the window: the entry is empty from then on. */
  resetAt: number;
}

export interface MemoryStoresOptions {
  /** The clock for keep times, windows, claims and leases (epoch ms); tests pass one they move. */
  now?: () => number;
}

export function createMemoryStores({ now: readNow = Date.now }: MemoryStoresOptions = {}): Stores {
  const sessions = new Map<string, SessionEntry>();
  const windows = new Map<string, WindowEntry>();
  /** replay key -> expiresAt (epoch ms) */
  const claims = new Map<string, number>();
  let isClosed = false;

  const assertOpen = () => {
    if (isClosed) throw new Error("memory stores are closed");
  };

  const getLiveEntry = (id: string, now: number): SessionEntry | undefined => {
    const entry = sessions.get(id);
    if (entry && entry.keepUntil <= now) {
      sessions.delete(id);
      return undefined;
    }
    return entry;
  };

  const sweep = () => {
    const now = readNow();
    for (const [id, entry] of sessions) if (entry.keepUntil <= now) sessions.delete(id);
    for (const [key, entry] of windows) if (entry.resetAt <= now) windows.delete(key);
    for (const [key, expiresAt] of claims) if (expiresAt <= now) claims.delete(key);
    for (const [key, entry] of values) if (entry.expiresAt <= now) values.delete(key);
  };
  const sweepTimer = setInterval(sweep, SWEEP_INTERVAL_MS);
  // The sweep is housekeeping only; it must never keep the process (or a test run) alive.
  sweepTimer.unref();

  const loginSessions: LoginSessionStore = {
    async create(session, keepUntil) {
      assertOpen();
      if (getLiveEntry(session.id, readNow())) throw new Error("login session id already exists");
      sessions.set(session.id, { record: copyRecord(session), keepUntil });
    },

    async get(id) {
      assertOpen();
      const entry = getLiveEntry(id, readNow());
      return entry ? copyRecord(entry.record) : null;
    },

    async transition(id: string, request: TransitionRequest): Promise<TransitionResult> {
      assertOpen();
      const entry = getLiveEntry(id, readNow());
      if (!entry) return { ok: false, session: null };
      const current = entry.record;
      if (!isTransitionAllowed(current, request)) return { ok: false, session: copyRecord(current) };

      entry.record = applyPatch(current, request);
      if (request.keepUntil !== undefined && request.keepUntil > entry.keepUntil) entry.keepUntil = request.keepUntil;
      if (request.forgetAt !== undefined) entry.keepUntil = request.forgetAt;
      return { ok: true, session: copyRecord(entry.record) };
    },
  };

  const rateLimiter: RateLimiter = {
    async hit(key, limit, windowMs): Promise<RateLimitResult> {
      assertOpen();
      const now = readNow();
      // windowMs is part of the key so that two limits on the same key never share a counter.
      const mapKey = `${windowMs}:${key}`;
      let entry = windows.get(mapKey);
      if (!entry) {
        entry = { hits: [], head: 0, resetAt: now };
        windows.set(mapKey, entry);
      }
      const { hits } = entry;
      let { head } = entry;
      while (head < hits.length && hits[head]! <= now - windowMs) head++;
      // What left is dropped once it is half the array: O(1) a hit however high the limit, where
      // dropping it at every hit would move the whole window (60,000 hits at 1,000/s).
      if (head > 0 && head * 2 >= hits.length) {
        hits.splice(0, head);
        head = 0;
      }
      entry.head = head;
      const count = hits.length - head;
      if (count >= limit) {
        // The hit whose leaving brings the count under the limit.
        return { ok: false, retryAfterMs: Math.max(1, hits[hits.length - limit]! + windowMs - now) };
      }
      hits.push(now);
      entry.resetAt = now + windowMs;
      return { ok: true, remaining: limit - count - 1 };
    },
  };

  const replayCache: ReplayCache = {
    async claim(key, expiresAt) {
      assertOpen();
      const heldUntil = claims.get(key);
      if (heldUntil !== undefined && heldUntil > readNow()) return false;
      claims.set(key, expiresAt);
      return true;
    },
  };

  // One node: the node id does not matter. Keys are IPs (outside input): a Map.
  const openConnections = new Map<string, number>();
  const connections: ConnectionCounter = {
    async acquire(ip, _nodeId, limit) {
      assertOpen();
      const count = openConnections.get(ip) ?? 0;
      if (count >= limit) return false;
      openConnections.set(ip, count + 1);
      return true;
    },
    async release(ip) {
      const count = openConnections.get(ip) ?? 0;
      if (count <= 1) openConnections.delete(ip);
      else openConnections.set(ip, count - 1);
    },
  };

  /** key -> value and its deadline (epoch ms); expired entries are dropped when read. */
  const values = new Map<string, { value: string; expiresAt: number }>();
  const readValue = (key: string): string | null => {
    const entry = values.get(key);
    if (!entry) return null;
    if (entry.expiresAt <= readNow()) {
      values.delete(key);
      return null;
    }
    return entry.value;
  };
  const keyValues: KeyValueStore = {
    async put(key, value, expiresAt) {
      assertOpen();
      values.set(key, { value, expiresAt });
    },
    async take(key) {
      assertOpen();
      const value = readValue(key);
      values.delete(key);
      return value;
    },
    async swap(key, value, expiresAt) {
      assertOpen();
      const old = readValue(key);
      values.set(key, { value, expiresAt });
      return old;
    },
    async get(key) {
      assertOpen();
      return readValue(key);
    },
  };

  // A restart empties this store: what an earlier process claimed is gone, so nothing dated before
  // this second is accepted (a restart takes well over a second: migrations, keys, listening).
  const epoch = Math.floor(Date.now() / 1000) * 1000;

  return {
    kind: "memory",
    readEpoch: () => epoch,
    onReset() {},
    async ping() {},
    connections,
    loginSessions,
    rateLimiter,
    replayCache,
    keyValues,
    presence: createMemoryPresenceStore(assertOpen, readNow),
    async close() {
      if (isClosed) return;
      isClosed = true;
      clearInterval(sweepTimer);
      sessions.clear();
      windows.clear();
      claims.clear();
      openConnections.clear();
      values.clear();
    },
  };
}

function isTransitionAllowed(current: LoginSessionRecord, request: TransitionRequest): boolean {
  if (ENDED_STATES.includes(current.state) || !request.from.includes(current.state)) return false;
  if (request.liveAt !== undefined) {
    const deadline = current.state === "approved" ? (current.codeExpiresAt ?? current.expiresAt) : current.expiresAt;
    if (request.liveAt >= deadline) return false;
  }
  if (request.issuedSince !== undefined && current.issuedAt < request.issuedSince) return false;
  for (const [field, expected] of Object.entries(request.expect ?? {})) {
    const actual = current[field as keyof LoginSessionRecord];
    // An expectation given as undefined means "the field must be absent": fail closed, so a
    // caller that forgot to pass the code can never redeem a session that has one.
    if (expected === undefined) {
      if (actual !== undefined) return false;
    } else if (typeof actual !== "string" || !timingSafeEqualString(actual, expected)) {
      return false;
    }
  }
  return true;
}

/** Patch keys given as undefined remove the field (e.g. the code once redeemed). */
function applyPatch(current: LoginSessionRecord, request: TransitionRequest): LoginSessionRecord {
  const next: Record<string, unknown> = { ...current };
  for (const [field, value] of Object.entries(request.patch ?? {})) {
    if (field === "id" || field === "state") continue;
    if (value === undefined) delete next[field];
    else next[field] = Array.isArray(value) ? [...value] : value;
  }
  next.state = request.to;
  return next as unknown as LoginSessionRecord;
}

function copyRecord(record: LoginSessionRecord): LoginSessionRecord {
  return { ...record, matchChoices: [...record.matchChoices], requiredClaims: [...record.requiredClaims] };
}
