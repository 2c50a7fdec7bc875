/**
 * The push login load generator (one process, so both ends of a latency share one clock): `pairs`
 * browser+phone pairs, each with its own wallet key paired as a device before the clock starts
 * (POST /api/devices/challenge, POST /api/devices) and two socket.io-client websockets kept open,
 * the phone's authenticated as that device (device:challenge, device:auth). Each pair loops
 *
 *   browser `login:push {address}` -> phone `push:request` -> `push:open` -> `push:approve` with the
 *   typed number (native-signed EIP-4361) -> browser `login:state` approved -> POST /api/auth/redeem
 *
 * for `warmupMs + durationMs`. A login counts when its redeem answers inside the window. The
 * latency with the figure is "page's request to the phone receiving it": `login:push` emitted ->
 * `push:request` arrived at the device socket. Every step has a timeout; in-flight logins get `drainMs`.
 *
 * Run by bench/sections/push.ts; alone: node --import tsx bench/push-load.ts '{"url":"http://127.0.0.1:3000"}'
 */
import { io, type Socket } from "socket.io-client";
import type { LoginStateEvent } from "../lib/protocol/login";
import type { PushRequest } from "../lib/protocol/push";
import type { SocketClientToServerEvents, SocketServerToClientEvents } from "../lib/protocol/socket-events";
import { createPushApproval, pairDevice, signDeviceChallenge, type WalletKey } from "../lib/wallet";
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
import { checkBenchSigner, createBenchWallet } from "./native-signer";
import { countError as countErrorIn } from "./stats";

export type PushLoadOptions = LoadOptions;

export interface PushLoadResult extends LoadResultBase {
  /** `login:push` emitted by the page -> `push:request` at the phone (ms). */
  requestToPhone: LatencySummary;
  /** `push:approve` sent by the phone -> `login:state` approved at the page (ms). */
  approveToBrowser: LatencySummary;
  /** `login:push` emitted -> redeem answered (ms). */
  fullLogin: LatencySummary;
}

export const DEFAULT_PUSH_LOAD: Omit<PushLoadOptions, "url"> = {
  pairs: 50,
  warmupMs: 2000,
  durationMs: 8000,
  drainMs: 5000,
  stepTimeoutMs: 10_000,
};

type AppSocket = Socket<SocketServerToClientEvents, SocketClientToServerEvents>;

class StepError extends Error {}

/** A promise with its resolve, rejected after `ms` with `what` unless settled first. */
function deadline<T>(ms: number, what: string) {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new StepError(`${what} timeout`)), ms);
  void promise.then(
    () => clearTimeout(timer),
    () => clearTimeout(timer),
  );
  return { promise, resolve, reject };
}

async function ack<T extends { ok: boolean; error?: { code: string } }>(what: string, call: Promise<T>): Promise<T> {
  const answer = await call.catch(() => {
    throw new StepError(`${what} timeout`);
  });
  if (!answer.ok) throw new StepError(`${what} ${answer.error?.code ?? "refused"}`);
  return answer;
}

export async function runPushLoad(options: PushLoadOptions): Promise<PushLoadResult> {
  checkBenchSigner();
  const domain = new URL(options.url).host;
  const errors: Record<string, number> = {};
  const countError = (kind: string) => countErrorIn(errors, kind);
  const socketOptions = { transports: ["websocket"], forceNew: true, reconnection: false, timeout: 10_000 };

  interface Pair {
    key: WalletKey;
    browser: AppSocket;
    phone: AppSocket;
    /** sessionId -> what the phone and the page are waiting for. */
    requests: Map<string, ReturnType<typeof deadline<{ at: number; request: PushRequest }>>>;
    approvals: Map<string, ReturnType<typeof deadline<{ at: number; code: string }>>>;
  }

  const connect = () =>
    new Promise<AppSocket>((resolve, reject) => {
      const socket: AppSocket = io(options.url, socketOptions);
      socket.once("connect", () => resolve(socket));
      socket.once("connect_error", (err) => {
        socket.close();
        reject(err);
      });
    });

  /** Pairs a new key, connects both sockets and authenticates the phone's. */
  async function setUpPair(): Promise<Pair> {
    const wallet = createBenchWallet();
    const key: WalletKey = {
      address: wallet.address,
      privateKey: "",
      signMessage: async (text) => wallet.signPersonal(text),
    };
    const device = await pairDevice({ endpoint: options.url, key, name: "bench" });
    const [browser, phone] = await Promise.all([connect(), connect()]);
    const timed = (socket: AppSocket) => socket.timeout(options.stepTimeoutMs);
    const challenge = await ack(
      "device:challenge",
      timed(phone).emitWithAck("device:challenge", { deviceId: device.id }),
    );
    await ack(
      "device:auth",
      timed(phone).emitWithAck("device:auth", await signDeviceChallenge(key, challenge, domain)),
    );
    const pair: Pair = { key, browser, phone, requests: new Map(), approvals: new Map() };
    phone.on("push:request", ({ sessionId, request }) => {
      const at = performance.now();
      // It may come before the page's ack (the server looks the devices up after answering the page).
      const waiter = pair.requests.get(sessionId) ?? deadline(options.stepTimeoutMs, "push:request");
      pair.requests.set(sessionId, waiter);
      waiter.resolve({ at, request });
    });
    browser.on("login:state", (event: LoginStateEvent) => {
      const at = performance.now();
      const waiter = pair.approvals.get(event.sessionId);
      if (!waiter) return;
      if (event.state === "approved" && event.code) waiter.resolve({ at, code: event.code });
      else if (event.state !== "pending" && event.state !== "fetched") {
        waiter.reject(new StepError(`login:state ${event.state}${event.reason ? ` (${event.reason})` : ""}`));
      }
    });
    return pair;
  }

  const pairs: Pair[] = [];
  for (let i = 0; i < options.pairs; i += 10) {
    const batch = await Promise.allSettled(Array.from({ length: Math.min(10, options.pairs - i) }, setUpPair));
    for (const result of batch) {
      if (result.status === "fulfilled") pairs.push(result.value);
      else countError(`pair setup: ${result.reason instanceof Error ? result.reason.message : String(result.reason)}`);
    }
  }

  const requestToPhone: number[] = [];
  const approveToBrowser: number[] = [];
  const fullLogin: number[] = [];
  let logins = 0;
  let loginsTotal = 0;
  const { windowEnd, inWindow } = loadClock(options);

  async function loginOnce(pair: Pair): Promise<void> {
    const tStart = performance.now();
    const started = await ack(
      "login:push",
      pair.browser.timeout(options.stepTimeoutMs).emitWithAck("login:push", { address: pair.key.address }),
    );
    if (!started.ok) throw new StepError("login:push refused");
    const { sessionId, matchCode, browserSecret } = started.session;
    const requested = pair.requests.get(sessionId) ?? deadline(options.stepTimeoutMs, "push:request");
    pair.requests.set(sessionId, requested);
    const approved = deadline<{ at: number; code: string }>(options.stepTimeoutMs, "login:state approved");
    pair.approvals.set(sessionId, approved);
    try {
      const { at: tRequest, request } = await requested.promise;
      await ack("push:open", pair.phone.timeout(options.stepTimeoutMs).emitWithAck("push:open", { sessionId }));
      const approval = await createPushApproval({ key: pair.key, request, matchCode });
      const tApprove = performance.now();
      await ack("push:approve", pair.phone.timeout(options.stepTimeoutMs).emitWithAck("push:approve", approval));
      const { at: tApproved, code } = await approved.promise;
      const redeemed = await fetch(`${options.url}/api/auth/redeem`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ sessionId, browserSecret, code }),
        signal: AbortSignal.timeout(options.stepTimeoutMs),
      }).catch(() => {
        throw new StepError("POST /api/auth/redeem failed");
      });
      const body = (await redeemed.json().catch(() => undefined)) as { accessToken?: unknown } | undefined;
      if (!redeemed.ok || typeof body?.accessToken !== "string") {
        throw new StepError(`POST /api/auth/redeem ${redeemed.status}`);
      }
      const tDone = performance.now();
      loginsTotal++;
      if (inWindow(tDone)) {
        logins++;
        fullLogin.push(tDone - tStart);
      }
      if (inWindow(tRequest)) requestToPhone.push(tRequest - tStart);
      if (inWindow(tApproved)) approveToBrowser.push(tApproved - tApprove);
    } finally {
      pair.requests.delete(sessionId);
      pair.approvals.delete(sessionId);
    }
  }

  const isUp = (pair: Pair) => pair.browser.connected && pair.phone.connected;
  async function runPair(pair: Pair): Promise<void> {
    while (performance.now() < windowEnd && isUp(pair)) {
      try {
        await loginOnce(pair);
      } catch (err) {
        countError(err instanceof StepError ? err.message : `unexpected: ${String(err)}`);
      }
    }
    if (!isUp(pair)) countError("socket disconnected");
  }

  const measured = await runInWindow(options, windowEnd, errors, () => Promise.all(pairs.map(runPair)));
  for (const pair of pairs) {
    pair.browser.disconnect();
    pair.phone.disconnect();
  }

  return {
    ...loadResultBase(options, { connectedPairs: pairs.length, logins, loginsTotal }, errors, measured),
    requestToPhone: summarizeMs(requestToPhone),
    approveToBrowser: summarizeMs(approveToBrowser),
    fullLogin: summarizeMs(fullLogin),
  };
}

await runAloneIfMain(import.meta.url, DEFAULT_PUSH_LOAD, runPushLoad);
