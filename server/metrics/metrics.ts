/*
 * The Prometheus metrics of one app (GET /metrics, see ./metrics-endpoint.ts).
 *
 * Rules:
 * - One registry per AppContext, never prom-client's global one: two apps in one process
 *   (tests, Next's second bundle) each count their own.
 * - The hot paths (login, data fetch, trigger, socket push) only add to plain numbers here;
 *   they are handed to prom-client when it is scraped (each counter's collect()). So a login
 *   costs a few integer additions and two histogram observations, and no label hashing.
 * - Gauges that describe the present (open sockets, subscriptions, presence members,
 *   outages) are read when scraped, from the parts that hold them (see MetricsSources).
 * - Label values come from closed sets (outcomes, error codes, limit names, dependency
 *   names), never from what a client sends, so no scrape can grow without bound.
 * - Names: `wallet_login_` prefix, `_total` for counters, `_seconds` for durations; the
 *   process and Node.js defaults (prom-client's collectDefaultMetrics, event-loop lag
 *   among them) keep their standard names.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";
import type { ErrorCode } from "../../lib/protocol/errors";

export const METRICS_PREFIX = "wallet_login_";

/** States a login session enters after it was started; each is counted once per session. */
export const LOGIN_OUTCOMES = ["approved", "redeemed", "denied", "cancelled", "expired"] as const;
export type LoginOutcome = (typeof LOGIN_OUTCOMES)[number];

/** The rate limits that can refuse something (config.rateLimits, data apps, notifications). */
export const RATE_LIMITS = [
  "login_start_socket",
  "login_start_ip",
  "auth_ip",
  "subscribe_socket",
  "data_app",
  "notifications_user",
  "attestor_challenges_ip",
  "attestor_requests_ip",
] as const;
export type RateLimitName = (typeof RATE_LIMITS)[number];

export type Dependency = "database" | "redis";

/** The labels of wallet_login_info. */
export const INFO_LABELS = ["stores", "database", "crypto", "keccak", "login_writes"] as const;
export type MetricsInfo = Record<(typeof INFO_LABELS)[number], string>;

/** What the gauges read when scraped; each is optional so a part can be wired when it exists. */
export interface MetricsSources {
  /** How this node runs (read at each scrape: the login writes can fall back to the main thread). */
  readInfo?: () => MetricsInfo;
  /** Open Socket.IO connections on this node. */
  countOpenSockets?: () => number;
  /** This node's channel subscriptions by kind. */
  countSubscriptions?: () => { public: number; private: number; presence: number };
  /** Distinct members of every presence channel, as the store holds them (all nodes). */
  countPresenceMembers?: () => Promise<number>;
  /** Whether a dependency is in an outage now. */
  isDependencyDown?: (dependency: Dependency) => boolean;
}

export interface MetricsOptions {
  /** The dependencies this app uses (database always; redis when configured). */
  dependencies: readonly Dependency[];
  /** Default process and Node.js metrics (default true; tests that start many apps may skip them). */
  withDefaultMetrics?: boolean;
}

/** How long a scrape waits for a gauge that asks a store (presence members). */
const SCRAPE_READ_TIMEOUT_MS = 1_000;

// Start -> approved is a person scanning and choosing a code; approved -> redeemed is a page
// trading a code it was pushed, normally in milliseconds.
const APPROVE_BUCKETS = [0.5, 1, 2, 3, 5, 7.5, 10, 15, 20, 30, 45, 60, 90, 120, 300];
const REDEEM_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export interface AppMetrics {
  readonly registry: Registry;
  /** The gauges' sources; set by the app once the parts exist. */
  readonly sources: MetricsSources;
  noteLoginStarted(): void;
  /** A session entered `outcome`; startedAt/approvedAt (epoch ms) give the durations observed. */
  noteLoginOutcome(outcome: LoginOutcome, at: number, startedAt: number, approvedAt?: number): void;
  noteRateLimited(limit: RateLimitName): void;
  /** A signed data fetch answered: `ok`, or the error code it was refused with. */
  noteDataFetch(outcome: "ok" | ErrorCode): void;
  /** Events accepted by the channels REST API (one per event of a batch). */
  noteTriggers(events: number): void;
  /** Channel pushes written to this node's sockets. */
  noteDeliveries(sockets: number): void;
  noteDependencyError(dependency: Dependency): void;
}

export function createMetrics(options: MetricsOptions): AppMetrics {
  const registry = new Registry();
  const sources: MetricsSources = {};
  const registers = [registry];

  // Plain numbers the hot paths add to; prom-client reads them when scraped.
  let loginsStarted = 0;
  const loginOutcomes = new Map<LoginOutcome, number>(LOGIN_OUTCOMES.map((o) => [o, 0]));
  const rateLimited = new Map<RateLimitName, number>(RATE_LIMITS.map((l) => [l, 0]));
  const dataFetches = new Map<string, number>([["ok", 0]]);
  let triggers = 0;
  let deliveries = 0;
  const dependencyErrors = new Map<Dependency, number>(options.dependencies.map((d) => [d, 0]));

  /** A counter whose values are set from `read` at each scrape (reset, then the running totals). */
  const tally = (name: string, help: string, labelName: string | undefined, read: () => Iterable<[string, number]>) =>
    new Counter({
      name: METRICS_PREFIX + name,
      help,
      labelNames: labelName ? [labelName] : [],
      registers,
      collect() {
        this.reset();
        for (const [label, value] of read()) {
          if (labelName) this.inc({ [labelName]: label }, value);
          else this.inc(value);
        }
      },
    });

  new Gauge({
    name: `${METRICS_PREFIX}info`,
    help: "Always 1; the labels say how this node runs (stores, database, crypto backends, login writes).",
    labelNames: INFO_LABELS,
    registers,
    collect() {
      this.reset();
      const info = sources.readInfo?.();
      if (info) this.set(info, 1);
    },
  });

  tally("logins_started_total", "Login sessions started (login:start).", undefined, () => [["", loginsStarted]]);
  tally(
    "logins_total",
    "Login sessions that entered each outcome state; a completed login counts as approved and as redeemed.",
    "outcome",
    () => loginOutcomes,
  );
  const approveSeconds = new Histogram({
    name: `${METRICS_PREFIX}login_approve_duration_seconds`,
    help: "Seconds from login:start to the wallet's approval (the user written).",
    buckets: APPROVE_BUCKETS,
    registers,
  });
  const redeemSeconds = new Histogram({
    name: `${METRICS_PREFIX}login_redeem_duration_seconds`,
    help: "Seconds from the approval to the page redeeming its one-time code.",
    buckets: REDEEM_BUCKETS,
    registers,
  });

  new Gauge({
    name: `${METRICS_PREFIX}sockets_open`,
    help: "Open Socket.IO connections on this node.",
    registers,
    collect() {
      this.set(sources.countOpenSockets?.() ?? 0);
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}channel_subscriptions`,
    help: "Channel subscriptions of this node's sockets, by channel kind.",
    labelNames: ["kind"],
    registers,
    collect() {
      const counts = sources.countSubscriptions?.() ?? { public: 0, private: 0, presence: 0 };
      for (const [kind, value] of Object.entries(counts)) this.set({ kind }, value);
    },
  });
  new Gauge({
    name: `${METRICS_PREFIX}presence_members`,
    help: "Distinct members of all presence channels, as the store holds them (the same on every node).",
    registers,
    async collect() {
      if (!sources.countPresenceMembers) return;
      // A store that does not answer keeps the last value instead of stalling the scrape.
      const value = await withTimeout(sources.countPresenceMembers(), SCRAPE_READ_TIMEOUT_MS).catch(() => undefined);
      if (value !== undefined) this.set(value);
    },
  });
  tally(
    "channel_triggers_total",
    "Events accepted by the channels REST API (each event of a batch).",
    undefined,
    () => [["", triggers]],
  );
  tally(
    "channel_deliveries_total",
    "Channel pushes (channel:event, presence:member_added/removed) written to this node's sockets.",
    undefined,
    () => [["", deliveries]],
  );
  tally(
    "data_fetches_total",
    "Signed data fetches answered, by outcome: ok or the error code.",
    "outcome",
    () => dataFetches,
  );
  tally(
    "rate_limited_total",
    "Requests and socket events refused by a rate limit, by limit.",
    "limit",
    () => rateLimited,
  );
  tally(
    "dependency_errors_total",
    "Failures of a dependency seen by this node (connection errors, calls that failed).",
    "dependency",
    () => dependencyErrors,
  );
  new Gauge({
    name: `${METRICS_PREFIX}dependency_outage`,
    help: "1 while a dependency is unavailable to this node, else 0.",
    labelNames: ["dependency"],
    registers,
    collect() {
      for (const dependency of options.dependencies) {
        this.set({ dependency }, sources.isDependencyDown?.(dependency) ? 1 : 0);
      }
    },
  });

  if (options.withDefaultMetrics ?? true) collectDefaultMetrics({ register: registry });

  return {
    registry,
    sources,
    noteLoginStarted() {
      loginsStarted++;
    },
    noteLoginOutcome(outcome, at, startedAt, approvedAt) {
      loginOutcomes.set(outcome, (loginOutcomes.get(outcome) ?? 0) + 1);
      if (outcome === "approved") approveSeconds.observe(Math.max(0, at - startedAt) / 1000);
      else if (outcome === "redeemed" && approvedAt !== undefined) {
        redeemSeconds.observe(Math.max(0, at - approvedAt) / 1000);
      }
    },
    noteRateLimited(limit) {
      rateLimited.set(limit, (rateLimited.get(limit) ?? 0) + 1);
    },
    noteDataFetch(outcome) {
      dataFetches.set(outcome, (dataFetches.get(outcome) ?? 0) + 1);
    },
    noteTriggers(events) {
      triggers += events;
    },
    noteDeliveries(sockets) {
      deliveries += sockets;
    },
    noteDependencyError(dependency) {
      dependencyErrors.set(dependency, (dependencyErrors.get(dependency) ?? 0) + 1);
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
