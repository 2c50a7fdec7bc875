import type { LoginState, MatchMode } from "../../lib/protocol/login";
import type { PresenceStore } from "./presence-types";

export type * from "./presence-types";

/**
 * A login session as the stores keep it. Only the SHA-256 of the browser secret is
 * kept. The one-time code is kept as issued (it is useless without the browser
 * secret and lives 60 s) so a browser that reconnects can still be handed it.
 */
export interface LoginSessionRecord {
  id: string;
  state: LoginState;
  nonce: string;
  browserSecretHash: string;
  matchCode: string;
  matchChoices: string[];
  /** As the config said when the session started (absent in records from before: see matchModeOf). */
  matchMode?: MatchMode;
  requiredClaims: string[];
  /** epoch ms */
  issuedAt: number;
  /** epoch ms */
  expiresAt: number;
  reason?: string;
  userId?: string;
  address?: string;
  code?: string;
  /** epoch ms */
  codeExpiresAt?: number;
  /** epoch ms: when the wallet's answer was accepted (for the redeem duration metric) */
  approvedAt?: number;
  /** Push login (section 5): the address asked for (EIP-55) and what its device is shown. */
  kind?: "push";
  pushAddress?: string;
  pushContext?: { origin: string | null; browser: string; os: string; ip: string | null; userAgent: string | null };
}

/** How a session's code is matched; records from before match modes: QR choose, push type. */
export function matchModeOf(session: Pick<LoginSessionRecord, "matchMode" | "kind">): MatchMode {
  return session.matchMode ?? (session.kind === "push" ? "type" : "choose");
}

/** The choices a wallet is shown: none when the person types the code. */
export function shownMatchChoices(session: LoginSessionRecord): string[] {
  return matchModeOf(session) === "choose" ? [...session.matchChoices] : [];
}

export type TransitionResult =
  { ok: true; session: LoginSessionRecord } | { ok: false; session: LoginSessionRecord | null };

export interface TransitionRequest {
  /** The states the session must be in for the transition to happen. */
  from: readonly LoginState[];
  to: LoginState;
  /** Fields that must equal these values too (compare-and-set). */
  expect?: Partial<Pick<LoginSessionRecord, "browserSecretHash" | "code" | "pushAddress">>;
  /** Fields to set with the new state. */
  patch?: Partial<Omit<LoginSessionRecord, "id" | "state">>;
  /** Keep the record at least until this epoch ms (e.g. the code's expiry). */
  keepUntil?: number;
  /**
   * Forget the record at this epoch ms, sooner or later than planned; wins over keepUntil. The
   * login service sets it when a session ends (docs/protocol.md 1.1: readable 120 s after its end).
   */
  forgetAt?: number;
  /**
   * Only if the session has not lapsed at this epoch ms: an open one before its expiresAt, an
   * approved one before its codeExpiresAt (expiresAt without one). Lets a caller skip the read
   * that would check it (one round trip fewer on Redis); a lapsed session is left as it is.
   */
  liveAt?: number;
  /** Only if the session was issued at or after this epoch ms (the stores' epoch, Stores.readEpoch). */
  issuedSince?: number;
}

/** Login sessions. Every transition is one atomic compare-and-set. */
export interface LoginSessionStore {
  /** Stores a new session; it is kept until keepUntil (epoch ms), then forgotten. */
  create(session: LoginSessionRecord, keepUntil: number): Promise<void>;
  get(id: string): Promise<LoginSessionRecord | null>;
  transition(id: string, request: TransitionRequest): Promise<TransitionResult>;
}

export type RateLimitResult = { ok: true; remaining: number } | { ok: false; retryAfterMs: number };

/**
 * Sliding-window limits, shared by all nodes when Redis is used: a hit is accepted when fewer
 * than `limit` hits of the key were accepted in the last `windowMs` (a refused hit is not kept,
 * so it never prolongs the wait). `retryAfterMs`: when the oldest of those leaves the window, so
 * the next hit then is accepted. Each key keeps at most `limit` times, for `windowMs`.
 */
export interface RateLimiter {
  hit(key: string, limit: number, windowMs: number): Promise<RateLimitResult>;
}

/**
 * Keys that can be claimed once each (the signed data fetches' replay cache): a key
 * stays claimed until its expiresAt, and exactly one of any number of concurrent
 * claims of it, on any node, wins.
 */
export interface ReplayCache {
  /** true when this call claimed `key`; false when it was already claimed and has not expired. */
  claim(key: string, expiresAt: number): Promise<boolean>;
}

/**
 * Open Socket.IO connections per client IP, across nodes (MAX_SOCKETS_PER_IP). Each node
 * counts its own sockets under its channel node id; counts of nodes whose lease lapsed (a
 * node that died) are dropped by the next acquire, so a dead node's sockets stop counting
 * once its lease ends. Acquire is one atomic check-and-count.
 */
export interface ConnectionCounter {
  /** Counts one more socket of `ip` on `nodeId`, unless `ip` already has `limit` on live nodes; false then. */
  acquire(ip: string, nodeId: string, limit: number): Promise<boolean>;
  /** Forgets one socket of `ip` counted on `nodeId` (nothing when none is counted). */
  release(ip: string, nodeId: string): Promise<void>;
}

/**
 * Small values with a deadline, shared by all nodes with Redis (push login, docs/protocol.md
 * section 5): single-use challenges (`take` reads and deletes in one atomic step, so exactly one
 * taker wins) and "the latest push for an address" (`swap` sets and returns the old value at once).
 */
export interface KeyValueStore {
  /** Stores `value` under `key` until `expiresAt` (epoch ms). */
  put(key: string, value: string, expiresAt: number): Promise<void>;
  /** Returns the value and deletes it, in one step; null when absent or expired. */
  take(key: string): Promise<string | null>;
  /** Sets `value` until `expiresAt` and returns the value it replaced (null when none), in one step. */
  swap(key: string, value: string, expiresAt: number): Promise<string | null>;
  get(key: string): Promise<string | null>;
}

export interface Stores {
  kind: "memory" | "redis";
  /**
   * Epoch ms from which this store holds everything it was given (a second boundary). What was
   * stored before it may be gone (Redis came back empty or restarted, the process restarted
   * with memory stores): login sessions issued and signed messages dated before it are refused
   * (docs/protocol.md section 3, "Replay across restarts"). A number when known, else a promise.
   */
  readEpoch(): number | Promise<number>;
  /** Called when the epoch moves while the process runs (Redis came back without our records). */
  onReset(listener: (epoch: number) => void): void;
  /** Resolves when the store answers (GET /api/ready). */
  ping(): Promise<void>;
  loginSessions: LoginSessionStore;
  rateLimiter: RateLimiter;
  replayCache: ReplayCache;
  /** Challenges and the latest push per address (section 5). */
  keyValues: KeyValueStore;
  /** Channel subscriptions and presence members (presence-types.ts). */
  presence: PresenceStore;
  /** Open sockets per client IP. */
  connections: ConnectionCounter;
  close(): Promise<void>;
}
