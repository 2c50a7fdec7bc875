/**
 * The login load generator (one process, so both ends of a latency share one clock): `pairs`
 * simulated browser+wallet pairs, each a socket.io-client websocket kept open, loop
 *
 *   browser `login:start` -> wallet GET requestUri -> wallet POST /api/auth (native-signed)
 *   -> browser `login:state` approved with code -> browser POST /api/auth/redeem
 *
 * for `warmupMs + durationMs`. Logins whose redeem ends inside the measured window count; the
 * latency "approve -> browser" is the time from the wallet's 200 to the browser's `approved`
 * event (negative when the event arrives first: the server emits before it answers the wallet).
 * Every step has a timeout, every loop stops at the deadline, and in-flight logins get `drainMs`.
 *
 * Run by bench/run.ts; alone: node --import tsx bench/login-load.ts '{"url":"http://127.0.0.1:3000"}'
 */
import { Agent, request } from "node:http";
import { io, type Socket } from "socket.io-client";
import type {
  ClientToServerEvents,
  LoginRequest,
  LoginStateEvent,
  ServerToClientEvents,
  StartedSession,
} from "../lib/protocol/login";
import { buildLoginMessage } from "../lib/wallet";
import { formatSiweMessage } from "../lib/protocol/siwe";
import { checkBenchSigner, createBenchWallet, type BenchWallet } from "./native-signer";
import {
  loadClock,
  loadResultBase,
  runAloneIfMain,
  runInWindow,
  summarizeMs,
  type LatencySummary,
  type LoadOptions,
  type LoadResultBase,
} from "./load-run";
import { countError as countErrorIn } from "./stats";

export type { LatencySummary } from "./load-run";

export interface LoginLoadOptions extends LoadOptions {
  /** A bound on each pair's loop besides the clock. */
  maxLoginsPerPair: number;
  /**
   * Open loop: start this many logins per second, round robin over the pairs (a pair may hold
   * several at once), whether or not earlier ones have finished, instead of each pair looping.
   * The latency then includes any queue the server builds, as a user's would.
   */
  ratePerSec?: number;
  /**
   * Drive a peer instead of our server: "siwe-next" is bench/peers/siwe-next (the guides' Next
   * route handlers): GET /api/nonce -> sign an EIP-4361 message -> POST /api/verify (token back).
   * No browser socket; a login counts when the verify answers with a token.
   */
  peer?: "siwe-next";
}

export interface LoginLoadResult extends LoadResultBase {
  /** Wallet's 200 -> browser's `approved` (ms). */
  approveToBrowser: LatencySummary;
  /** Wallet sends POST /api/auth -> browser's `approved` (ms). */
  postToBrowser: LatencySummary;
  /** login:start -> redeem answered (ms). */
  fullLogin: LatencySummary;
  /** Share of logins where the browser heard `approved` before the wallet got its 200. */
  browserFirstShare: number;
  /** New HTTP connections the generator had to open inside the measured window (0 is the aim). */
  connectionsOpenedInWindow: number;
  /** Requests sent again after the server reset a reused keep-alive socket (not errors, but counted). */
  httpRetries: number;
  /** This process's own event-loop delay p99 over the window (ms): time it adds to what it measures. */
  generatorLoopDelayP99Ms: number;
}

export const DEFAULT_LOGIN_LOAD: Omit<LoginLoadOptions, "url"> = {
  pairs: 200,
  warmupMs: 2000,
  durationMs: 10_000,
  drainMs: 5000,
  stepTimeoutMs: 10_000,
  maxLoginsPerPair: 100_000,
};

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

class StepError extends Error {}
class ReusedSocketReset extends Error {}

export async function runLoginLoad(options: LoginLoadOptions): Promise<LoginLoadResult> {
  checkBenchSigner();
  const base = new URL(options.url);
  // Keep-alive, one connection per pair at most: what a busy wallet population looks like to the
  // server, without a new TCP handshake per request. node:http rather than fetch: on Node 20 fetch
  // spends several times the CPU per request, and this process shares the machine with the server.
  // - `timeout` below the server's 5 s keep-alive: without it Node 20's agent ignores the server's
  //   Keep-Alive hint and may reuse a socket the server is closing (ECONNRESET).
  // - The connections are opened before the clock starts and used round-robin (fifo), so none
  //   idles out: a saturated Node server accepts one new connection per event-loop iteration, and
  //   connections opened mid-run would measure that queue rather than the login (see README).
  const agent = new Agent({ keepAlive: true, maxSockets: options.pairs, timeout: 4000, scheduling: "fifo" });
  /** performance.now() of every new HTTP connection the generator opened. */
  const connectionsOpenedAt: number[] = [];
  const errors: Record<string, number> = {};
  const countError = (kind: string) => countErrorIn(errors, kind);
  let httpRetries = 0;

  function httpOnce(method: "GET" | "POST", path: string, payload: string | undefined) {
    return new Promise<{ status: number; json: unknown }>((resolve, reject) => {
      const req = request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path,
          headers:
            payload === undefined
              ? { accept: "application/json" }
              : { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            try {
              resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as unknown) : undefined });
            } catch {
              resolve({ status: res.statusCode ?? 0, json: undefined });
            }
          });
        },
      );
      req.once("socket", () => {
        if (!req.reusedSocket) connectionsOpenedAt.push(performance.now());
      });
      req.setTimeout(options.stepTimeoutMs, () =>
        req.destroy(new StepError(`${method} ${path.split("/").slice(0, 4).join("/")} timeout`)),
      );
      req.on("error", (err: NodeJS.ErrnoException) => {
        // The one retry Node's docs advise: a kept-alive socket the server closed as we reused it.
        // Nothing reached the server's handler then, so even a POST is safe to send again.
        if (req.reusedSocket && err.code === "ECONNRESET") reject(new ReusedSocketReset());
        else reject(err);
      });
      req.end(payload);
    });
  }

  async function httpJson(method: "GET" | "POST", path: string, body?: unknown) {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    try {
      return await httpOnce(method, path, payload);
    } catch (err) {
      if (!(err instanceof ReusedSocketReset)) throw err;
      httpRetries++;
      return httpOnce(method, path, payload);
    }
  }

  const errorCodeOf = (json: unknown) =>
    (json as { error?: { code?: string } } | undefined)?.error?.code ?? "no error body";

  // ---- connect every pair's browser socket before the clock starts ----
  interface Pair {
    /** null for a peer without sockets. */
    socket: ClientSocket | null;
    wallet: BenchWallet;
    /** sessionId -> waiter for its `approved` event. */
    waiters: Map<string, { at?: number; code?: string; resolve?: () => void; failed?: string }>;
  }
  const connectOne = (): Promise<Pair | null> =>
    new Promise((resolve) => {
      const socket: ClientSocket = io(options.url, {
        transports: ["websocket"],
        forceNew: true,
        reconnection: false,
        timeout: options.stepTimeoutMs,
      });
      const pair: Pair = { socket, wallet: createBenchWallet(), waiters: new Map() };
      socket.on("login:state", (event: LoginStateEvent) => {
        const at = performance.now();
        const waiter = pair.waiters.get(event.sessionId);
        if (!waiter) return;
        if (event.state === "approved") {
          waiter.at = at;
          waiter.code = event.code;
          waiter.resolve?.();
        } else if (event.state !== "pending" && event.state !== "scanned") {
          waiter.failed = `login:state ${event.state}${event.reason ? ` (${event.reason})` : ""}`;
          waiter.resolve?.();
        }
      });
      socket.once("connect", () => resolve(pair));
      socket.once("connect_error", (err) => {
        countError(`connect_error: ${err.message}`);
        socket.close();
        resolve(null);
      });
    });
  const pairs: Pair[] = [];
  if (options.peer) {
    for (let i = 0; i < options.pairs; i++)
      pairs.push({ socket: null, wallet: createBenchWallet(), waiters: new Map() });
  }
  for (let i = 0; i < (options.peer ? 0 : options.pairs); i += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, options.pairs - i) }, connectOne));
    for (const pair of batch) if (pair) pairs.push(pair);
  }
  // The wallets' keep-alive connections, opened while the server is idle.
  const warmPath = options.peer ? "/api/nonce" : "/api/health";
  const warm = await Promise.allSettled(Array.from({ length: pairs.length }, () => httpJson("GET", warmPath)));
  const warmFailures = warm.filter((r) => r.status === "rejected" || r.value.status !== 200).length;
  if (warmFailures > 0) countError(`GET ${warmPath} before the run failed ${warmFailures} times`);

  const approveToBrowser: number[] = [];
  const postToBrowser: number[] = [];
  const fullLogin: number[] = [];
  let browserFirst = 0;
  let logins = 0;
  let loginsTotal = 0;

  const { windowEnd, inWindow } = loadClock(options);

  function waitForApproved(pair: Pair, sessionId: string): Promise<{ at: number; code: string }> {
    const waiter = pair.waiters.get(sessionId);
    if (!waiter) throw new StepError("no waiter");
    const settle = () => {
      if (waiter.failed) throw new StepError(waiter.failed);
      if (waiter.at === undefined || !waiter.code) throw new StepError("login:state approved without code");
      return { at: waiter.at, code: waiter.code };
    };
    if (waiter.at !== undefined || waiter.failed) return Promise.resolve().then(settle);
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new StepError("login:state approved timeout")), options.stepTimeoutMs);
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
    }).then(settle);
  }

  /** The peer's login: nonce, sign, verify; the token in the answer is the end. */
  async function peerLoginOnce(pair: Pair): Promise<void> {
    const tStart = performance.now();
    const nonce = await httpJson("GET", "/api/nonce");
    const nonceValue = (nonce.json as { nonce?: unknown } | undefined)?.nonce;
    if (nonce.status !== 200 || typeof nonceValue !== "string") throw new StepError(`GET /api/nonce ${nonce.status}`);
    const message = formatSiweMessage({
      domain: base.host,
      address: pair.wallet.address,
      statement: "Sign in with Ethereum to the peer.",
      uri: base.origin,
      version: "1",
      chainId: 1,
      nonce: nonceValue,
      issuedAt: new Date().toISOString(),
    });
    const verified = await httpJson("POST", "/api/verify", { message, signature: pair.wallet.signPersonal(message) });
    const token = (verified.json as { token?: unknown } | undefined)?.token;
    if (verified.status !== 200 || typeof token !== "string") {
      throw new StepError(`POST /api/verify ${verified.status} ${errorCodeOf(verified.json)}`);
    }
    const tDone = performance.now();
    loginsTotal++;
    if (inWindow(tDone)) {
      logins++;
      fullLogin.push(tDone - tStart);
    }
  }

  async function loginOnce(pair: Pair): Promise<void> {
    if (!pair.socket) return peerLoginOnce(pair);
    const tStart = performance.now();
    const ack = await pair.socket
      .timeout(options.stepTimeoutMs)
      .emitWithAck("login:start", {})
      .catch(() => {
        throw new StepError("login:start timeout");
      });
    if (!ack.ok) throw new StepError(`login:start ${ack.error.code}`);
    const session: StartedSession = ack.session;
    pair.waiters.set(session.sessionId, {});
    try {
      const requestPath = new URL(session.requestUri).pathname;
      const scanned = await httpJson("GET", requestPath);
      if (scanned.status !== 200) throw new StepError(`GET request ${scanned.status} ${errorCodeOf(scanned.json)}`);
      const loginRequest = scanned.json as LoginRequest;
      if (!loginRequest.matchChoices.includes(session.matchCode)) throw new StepError("match code not offered");

      const message = buildLoginMessage(loginRequest, pair.wallet.address);
      const signature = pair.wallet.signPersonal(message);
      const tPost = performance.now();
      const answer = await httpJson("POST", new URL(loginRequest.responseUri).pathname, {
        sessionId: session.sessionId,
        message,
        signature,
        matchCode: session.matchCode,
      });
      const tWalletOk = performance.now();
      if (answer.status !== 200) throw new StepError(`POST /api/auth ${answer.status} ${errorCodeOf(answer.json)}`);

      const approved = await waitForApproved(pair, session.sessionId);
      const redeemed = await httpJson("POST", "/api/auth/redeem", {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
        code: approved.code,
      });
      if (redeemed.status !== 200)
        throw new StepError(`POST /api/auth/redeem ${redeemed.status} ${errorCodeOf(redeemed.json)}`);
      if (typeof (redeemed.json as { accessToken?: unknown }).accessToken !== "string") {
        throw new StepError("redeem without accessToken");
      }
      const tDone = performance.now();
      loginsTotal++;
      if (inWindow(tDone)) {
        logins++;
        fullLogin.push(tDone - tStart);
      }
      if (inWindow(tWalletOk)) {
        approveToBrowser.push(approved.at - tWalletOk);
        postToBrowser.push(approved.at - tPost);
        if (approved.at < tWalletOk) browserFirst++;
      }
    } finally {
      pair.waiters.delete(session.sessionId);
    }
  }

  const loopDeadline = windowEnd;
  const isUp = (pair: Pair) => pair.socket === null || pair.socket.connected;
  async function runPair(pair: Pair): Promise<void> {
    for (let i = 0; i < options.maxLoginsPerPair && performance.now() < loopDeadline && isUp(pair); i++) {
      try {
        await loginOnce(pair);
      } catch (err) {
        countError(
          err instanceof StepError ? err.message : `unexpected: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    if (!isUp(pair)) countError("socket disconnected");
  }

  /** See LoginLoadOptions.ratePerSec. In flight at once: at most 8 per pair (more are counted as skipped). */
  async function runOpenLoop(rate: number): Promise<void> {
    const inFlight = new Set<Promise<void>>();
    const interval = 1000 / rate;
    let next = performance.now();
    for (let i = 0; performance.now() < loopDeadline; i++) {
      const pair = pairs[i % pairs.length];
      if (!pair) break;
      if (inFlight.size >= pairs.length * 8 || !isUp(pair)) {
        countError(isUp(pair) ? "open loop: login skipped, too many in flight" : "socket disconnected");
      } else {
        const login: Promise<void> = loginOnce(pair)
          .catch((err: unknown) =>
            countError(
              err instanceof StepError
                ? err.message
                : `unexpected: ${err instanceof Error ? err.message : String(err)}`,
            ),
          )
          .finally(() => inFlight.delete(login));
        inFlight.add(login);
      }
      next += interval;
      const wait = next - performance.now();
      if (wait >= 1) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    await Promise.all(inFlight);
  }

  // The parent (bench/logins.ts) reads the server's CPU and profiles it over the same window.
  const measured = await runInWindow(options, windowEnd, errors, () =>
    options.ratePerSec ? runOpenLoop(options.ratePerSec) : Promise.all(pairs.map(runPair)),
  );
  for (const pair of pairs) pair.socket?.disconnect();
  agent.destroy();

  return {
    ...loadResultBase(options, { connectedPairs: pairs.length, logins, loginsTotal }, errors, measured),
    approveToBrowser: summarizeMs(approveToBrowser),
    postToBrowser: summarizeMs(postToBrowser),
    fullLogin: summarizeMs(fullLogin),
    browserFirstShare: approveToBrowser.length ? Math.round((browserFirst / approveToBrowser.length) * 1000) / 1000 : 0,
    httpRetries,
    connectionsOpenedInWindow: connectionsOpenedAt.filter(inWindow).length,
    generatorLoopDelayP99Ms: measured.loopDelayP99Ms(),
  };
}

await runAloneIfMain(import.meta.url, DEFAULT_LOGIN_LOAD, runLoginLoad);
