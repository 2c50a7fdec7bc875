/*
 * Dependencies (the database, Redis) going away and coming back, as the boundaries see it.
 *
 * Rules:
 * - A request or socket event that needs a dependency that does not answer fails fast with
 *   `unavailable` (HTTP 503 + Retry-After, socket ack `{ok:false,error:{code:"unavailable"}}`),
 *   never 500 and never a stack per request: the Redis stores turn connection failures into
 *   UnavailableError (server/store/redis.ts); database connection errors are recognised here.
 * - Each transition (down, back) is logged once per dependency. While one is down a probe
 *   runs every PROBE_INTERVAL_MS until it answers, so "back" is logged without traffic.
 * - GET /api/ready probes every configured dependency with PROBE_TIMEOUT_MS each and names
 *   the ones that failed; while the server drains (SIGTERM) it answers 503 at once.
 */
import type { Logger } from "./logger";

export type Dependency = "database" | "redis";

/** Seconds a client is asked to wait before trying again (Retry-After). */
export const RETRY_AFTER_SECONDS = 1;
/** How long GET /api/ready waits for each dependency. */
export const PROBE_TIMEOUT_MS = 500;
const PROBE_INTERVAL_MS = 1_000;

/** A dependency did not answer: answered `unavailable` (503) at every boundary. */
export class UnavailableError extends Error {
  override readonly name = "UnavailableError";

  constructor(
    readonly dependency: Dependency,
    cause?: unknown,
  ) {
    super(`${dependency} is unavailable`, cause === undefined ? undefined : { cause });
  }
}

// Connection-level failures of pg, Prisma and the socket beneath them (walked through `cause`).
const DATABASE_DOWN_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "P1001",
  "P1002",
  "P1017",
  "57P01",
  "57P02",
  "57P03",
  "08000",
  "08001",
  "08003",
  "08004",
  "08006",
]);
const DATABASE_DOWN_KINDS = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
]);
const DATABASE_DOWN_MESSAGE =
  /Connection terminated|connection timeout|Can't reach database|Client has encountered a connection error/i;

/** Whether `err` (or a cause of it) says the database could not be reached. */
export function isDatabaseConnectionError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 6 && typeof current === "object" && current !== null; depth++) {
    const { code, kind, message, cause } = current as {
      code?: unknown;
      kind?: unknown;
      message?: unknown;
      cause?: unknown;
    };
    if (typeof code === "string" && DATABASE_DOWN_CODES.has(code)) return true;
    if (typeof kind === "string" && DATABASE_DOWN_KINDS.has(kind)) return true;
    if (typeof message === "string" && DATABASE_DOWN_MESSAGE.test(message)) return true;
    current = cause;
  }
  return false;
}

/** The dependency an error says is down, or undefined for any other error. */
export function readUnavailableDependency(err: unknown): Dependency | undefined {
  if (err instanceof UnavailableError) return err.dependency;
  if (isDatabaseConnectionError(err)) return "database";
  return undefined;
}

export interface Probe {
  dependency: Dependency;
  /** Resolves when the dependency answers; rejects otherwise. */
  check(): Promise<void>;
}

export type Readiness = { ok: true } | { ok: false; failed: Dependency[]; draining: boolean };

export interface Availability {
  /** A dependency GET /api/ready checks (and that is probed while down). */
  addProbe(probe: Probe): void;
  /** A boundary met this failure of `dependency`: logs "down" once and starts probing. */
  reportDown(dependency: Dependency, err: unknown): void;
  /** Probes every dependency (PROBE_TIMEOUT_MS each); 503 material when any fails or the server drains. */
  checkReadiness(): Promise<Readiness>;
  /** From now on readiness answers 503 at once (SIGTERM). */
  startDraining(): void;
  readonly isDraining: boolean;
  /** Whether `dependency` is in an outage now (reported down, not yet probed back). */
  isDown(dependency: Dependency): boolean;
  /** Probes `dependency` now (PROBE_TIMEOUT_MS; callers at once share one probe): whether it answered. */
  probe(dependency: Dependency): Promise<boolean>;
  close(): void;
}

/**
 * Rejects when `promise` has not settled `ms` after the call. The timer's turn first lets the
 * event loop read what already arrived (setImmediate runs after the loop's I/O): on a loaded
 * machine the loop may run the timer late, when the answer is already waiting in the socket, and
 * that answer is not an outage.
 */
function withTimeout(promise: Promise<void>, ms: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => setImmediate(() => reject(new Error(`no answer within ${ms} ms`))), ms);
    promise.then(
      () => {
        clearTimeout(timer);
        resolve();
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export function createAvailability(options: {
  log: Logger;
  /** Every failure reported (for the metrics), not only the transitions. */
  onFailure?: (dependency: Dependency) => void;
}): Availability {
  const { log } = options;
  const probes: Probe[] = [];
  const down = new Map<Dependency, ReturnType<typeof setInterval>>();
  let isDraining = false;
  let isClosed = false;

  const markUp = (dependency: Dependency) => {
    const timer = down.get(dependency);
    if (timer === undefined) return;
    clearInterval(timer);
    down.delete(dependency);
    log.info({ event: "dependency_up", dependency }, `${dependency} is back`);
  };

  const inFlight = new Map<Probe, Promise<boolean>>();
  const probeOnce = (probe: Probe): Promise<boolean> => {
    let running = inFlight.get(probe);
    if (running) return running;
    running = withTimeout(probe.check(), PROBE_TIMEOUT_MS).then(
      () => {
        markUp(probe.dependency);
        return true;
      },
      (err: unknown) => {
        reportDown(probe.dependency, err);
        return false;
      },
    );
    const settled = running.finally(() => inFlight.delete(probe));
    inFlight.set(probe, settled);
    return settled;
  };

  function reportDown(dependency: Dependency, err: unknown) {
    options.onFailure?.(dependency);
    if (isClosed || down.has(dependency)) return;
    const probe = probes.find((p) => p.dependency === dependency);
    const timer = setInterval(() => {
      if (probe) void probeOnce(probe);
    }, PROBE_INTERVAL_MS);
    timer.unref();
    down.set(dependency, timer);
    const cause = err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    log.warn({ event: "dependency_down", dependency, cause }, `${dependency} is unavailable; answering 503`);
  }

  return {
    addProbe(probe) {
      probes.push(probe);
    },
    reportDown,
    async checkReadiness() {
      if (isDraining) return { ok: false, failed: [], draining: true };
      const results = await Promise.all(
        probes.map(async (probe) => ((await probeOnce(probe)) ? null : probe.dependency)),
      );
      const failed = results.filter((d): d is Dependency => d !== null);
      if (isDraining) return { ok: false, failed, draining: true };
      return failed.length === 0 ? { ok: true } : { ok: false, failed, draining: false };
    },
    startDraining() {
      isDraining = true;
    },
    get isDraining() {
      return isDraining;
    },
    isDown: (dependency) => down.has(dependency),
    async probe(dependency) {
      const probe = probes.find((p) => p.dependency === dependency);
      return probe ? probeOnce(probe) : true;
    },
    close() {
      isClosed = true;
      for (const timer of down.values()) clearInterval(timer);
      down.clear();
    },
  };
}
