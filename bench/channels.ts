/**
 * Channels (docs/protocol.md section 2): fan-out of REST triggers, channel auth and presence churn, each
 * figure beside a peer measured the same way in the same run.
 *
 * Two servers run at once, each a child process: ours (API_ONLY, memory stores, app credentials
 * made up for the run) and the bare Socket.IO peer (bench/bare-socket-server.ts with
 * BARE_CHANNELS=1: rooms, a trivial `POST /trigger` handler doing `io.to(room).emit`, a member map
 * for presence; no auth, no checks, no store). Every phase runs on one and then on the other (the
 * order alternates from phase to phase), so a change in the machine's other load hits both alike.
 *
 * 1. Fan-out: `subscribers` sockets per server (default 1,000), spread over `holders` child
 *    processes (bench/channel-holder.ts, with the minimal client bench/ws-client.ts), subscribe to
 *    one channel (`private-bench-fanout` on ours, signed with the app secret as lib/sdk's
 *    `authenticate` signs). A trigger is `POST /apps/{appId}/events` signed exactly as lib/sdk's
 *    RealtimeServer signs it (signRequestParams, same body and encoding; only the HTTP client is
 *    ours, a keep-alive node:http Agent), or `POST /trigger` with the same body on the peer;
 *    `data` is the trigger's sequence number. Every subscriber must get every trigger exactly
 *    once, on the right channel with the right name: anything missing, duplicated or wrong is an
 *    error. Phases:
 *    - warm-up: `warmupTriggers` one at a time (checked, not reported);
 *    - single: `singleTriggers` one at a time, each after the previous one's last delivery,
 *      alternating between the two servers trigger by trigger: trigger written -> last
 *      delivery, and deliveries/s = subscribers / that time (median);
 *    - burst: `burstTriggers` back to back over `burstConnections` keep-alive connections (each
 *      sends its next trigger when the previous one answered): deliveries / (last delivery -
 *      first trigger sent), the sustained fan-out rate;
 *    - steady: `steadyRate` triggers/s, open loop (sent on schedule, whatever the answers),
 *      `steadyWarmupMs` then `steadyMs` measured: per delivery, arrival - the time its trigger
 *      request was written (p50, p99); then the same at `lightRate`, a rate below what both
 *      servers can fan out on this machine, so the latency is not a queue's.
 *    Times are nowMs() (CLOCK_MONOTONIC, one clock for every process on the machine), stamped by
 *    this process just before the request is written and by a holder when it reads the chunk.
 * 2. Presence churn: `presenceUsers` sockets of the same holders join one presence channel as
 *    distinct users (`bench-user-<n>`, signed channel_data), all at once, then leave it
 *    (`channel:unsubscribe`). An observer socket in this process, itself a member from the start,
 *    must see exactly one member_added (with the right user_info) and one member_removed per
 *    user, and the member count (REST `GET /apps/{id}/channels/{c}?info=user_count` through
 *    lib/sdk; `GET /presence-count` on the peer) must be users + 1 after the joins and 1 at the
 *    end. events/s = 2 x users / (join time + leave time), each from the first subscribe sent to
 *    the observer's last notice. Every join and leave is also announced to every member already
 *    there (about users^2 / 2 notices each way), which is most of the work; the holders count them.
 * 3. Channel auth (ours only, before any socket connects): `POST /api/channel-auth` for a presence
 *    channel with a Bearer access token from a real QR login (lib/client + lib/wallet), requests/s
 *    with autocannon, beside `GET /api/health` on the same server with the same settings.
 *
 * In `npm run bench` (section `channels`): --subscribers=1000 --holders=4 --steady-rate=100
 *   --light-rate=25 --presence-users=500.
 */
import { fork, type ChildProcess } from "node:child_process";
import { randomBytes, randomInt } from "node:crypto";
import { Agent, request } from "node:http";
import path from "node:path";
import { createLoginClient } from "../lib/client/login-client";
import { RealtimeServer, signChannelAuth, signRequestParams } from "../lib/sdk/node";
import { approveLogin, createWalletKey, fetchLoginRequest } from "../lib/wallet";
import type { HolderCommand, HolderMessage, HolderOptions } from "./channel-holder";
import { measureThroughput, type ThroughputResult } from "./http-throughput";
import {
  ROOT,
  appServerEnv,
  createTempDir,
  readCpuSeconds,
  startServer,
  trackChild,
  type ServerHandle,
} from "./server-process";
import { MiniSocket, nowMs } from "./ws-client";
import { countError, mergeErrors, roundTo, sleep, summarize, sumErrors } from "./stats";

export interface ChannelsBenchOptions {
  subscribers: number;
  holders: number;
  /** Sockets each holder connects at once. */
  connectBatch: number;
  warmupTriggers: number;
  singleTriggers: number;
  burstTriggers: number;
  burstConnections: number;
  steadyRate: number;
  /** A second steady phase at this rate (triggers/s), below both servers' capacity. */
  lightRate: number;
  steadyWarmupMs: number;
  steadyMs: number;
  presenceUsers: number;
  http: { connections: number; seconds: number; warmupSeconds: number };
  /** Any single wait (a connect, an ack, a phase's last delivery) gives up after this. */
  timeoutMs: number;
  /**
   * Write V8 CPU profiles of the servers here: ours over the channel-auth run
   * (`server-channel-auth.cpuprofile`), each server over its steady phase at `steadyRate`
   * (`server-fanout-<ours|bare>.cpuprofile`) and over the presence joins and leaves
   * (`server-presence-<ours|bare>.cpuprofile`; the member count read between them included).
   */
  cpuProfileDir?: string;
  /** Progress lines (a phase starts); left out of the results JSON. */
  log?: (line: string) => void;
}

export const DEFAULT_CHANNELS_BENCH: ChannelsBenchOptions = {
  subscribers: 1000,
  holders: 4,
  connectBatch: 50,
  warmupTriggers: 20,
  singleTriggers: 30,
  burstTriggers: 200,
  burstConnections: 4,
  steadyRate: 100,
  lightRate: 25,
  steadyWarmupMs: 1000,
  steadyMs: 4000,
  presenceUsers: 500,
  http: { connections: 50, seconds: 5, warmupSeconds: 1 },
  timeoutMs: 10_000,
};

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

export interface SteadyMeasurement {
  rate: number;
  /** Triggers written per second over the measured part, as the timers managed. */
  achievedRate: number;
  triggers: number;
  /** Per delivery: arrival - trigger written, ms (measured part only). */
  latency: LatencySummary;
  /** CPU over the whole phase, in cores: the server, and the holders plus this process. */
  serverCpuCores: number;
  generatorCpuCores: number;
}

export interface FanoutMeasurement {
  subscribers: number;
  subscribed: number;
  single: {
    triggers: number;
    /** Trigger written -> its last delivery, ms, one value per trigger. */
    toLastDelivery: LatencySummary;
    /** Median over the triggers of subscribers / (trigger written -> last delivery). */
    deliveriesPerSec: number;
  };
  burst: { triggers: number; connections: number; elapsedMs: number; deliveries: number; deliveriesPerSec: number };
  steady: SteadyMeasurement;
  light: SteadyMeasurement;
  errors: Record<string, number>;
}

export interface PresenceMeasurement {
  users: number;
  joinMs: number;
  leaveMs: number;
  added: number;
  removed: number;
  eventsPerSec: number;
  /** Presence notices the holders' sockets (the other members) received, joins and leaves. */
  memberNotices: number;
  countAfterJoins: number;
  countAtEnd: number;
  errors: Record<string, number>;
}

export interface ServerChannelsMeasurement {
  server: string;
  fanout: FanoutMeasurement;
  presence: PresenceMeasurement;
  /** Connect and subscribe failures, unexpected disconnects, and every fan-out and presence error. */
  errorCount: number;
}

export interface ChannelAuthMeasurement {
  channelAuth: ThroughputResult;
  apiHealth: ThroughputResult;
  /** The server's CPU over each autocannon run (warm-up excluded), in cores. */
  channelAuthServerCpuCores: number;
  apiHealthServerCpuCores: number;
  /** The login, the checked answer, autocannon's errors and non-2xx. */
  errors: Record<string, number>;
}

export interface ChannelsBenchResult {
  options: ChannelsBenchOptions;
  ours: ServerChannelsMeasurement;
  bare: ServerChannelsMeasurement;
  auth: ChannelAuthMeasurement;
  /** CPU profiles written (cpuProfileDir), by what they cover. */
  cpuProfiles: Record<string, string>;
}

const HOLDER_SCRIPT = path.join(ROOT, "bench", "channel-holder.ts");
const FANOUT_EVENT = "bench";
const FANOUT_CHANNEL = { ours: "private-bench-fanout", bare: "bench-fanout" };
const PRESENCE_CHANNEL = "presence-bench-churn";
const AUTH_CHANNEL = "presence-bench-auth";
/** A socket_id as our server hands them out; channel auth signs whatever the browser names. */
const AUTH_SOCKET_ID = "1234567.7654321";

const round2 = (n: number) => roundTo(n, 2);
const LATENCY_QUANTILES = { p50: 0.5, p99: 0.99, max: 1 };
const summarizeMs = (values: ArrayLike<number>): LatencySummary => summarize(values, LATENCY_QUANTILES);

/** Rejects after `ms` with `message`, for races against event-driven waits. */
function deadline(ms: number, message: string): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  promise.catch(() => {});
  return { promise, cancel: () => clearTimeout(timer) };
}

async function within<T>(ms: number, message: string, work: Promise<T>): Promise<T> {
  const limit = deadline(ms, message);
  try {
    return await Promise.race([work, limit.promise]);
  } finally {
    limit.cancel();
  }
}

// ---------------------------------------------------------------- the servers

interface ServerUnderTest {
  kind: "ours" | "bare";
  handle: ServerHandle;
  channel: string;
  credentials: { appId: string; key: string; secret: string } | null;
}

function makeCredentials() {
  return {
    appId: String(randomInt(100_000, 10_000_000)),
    key: randomBytes(10).toString("hex"),
    secret: randomBytes(32).toString("hex"),
  };
}

async function startOurs(credentials: ReturnType<typeof makeCredentials>, users: number): Promise<ServerUnderTest> {
  const dataDir = await createTempDir("channels");
  const handle = await startServer({
    name: "our server (API_ONLY)",
    script: "server/index.ts",
    isApp: true,
    env: (port) => ({
      ...appServerEnv(port, dataDir, { apiOnly: true }),
      APP_ID: credentials.appId,
      APP_KEY: credentials.key,
      APP_SECRET: credentials.secret,
      PRESENCE_MAX_MEMBERS: String(users + 100),
      RATE_LIMIT_SUBSCRIBE_PER_SOCKET: "1000000",
    }),
  });
  return { kind: "ours", handle, channel: FANOUT_CHANNEL.ours, credentials };
}

async function startBare(): Promise<ServerUnderTest> {
  const handle = await startServer({
    name: "bare Socket.IO server (BARE_CHANNELS)",
    script: "bench/bare-socket-server.ts",
    env: { BARE_CHANNELS: "1" },
  });
  return { kind: "bare", handle, channel: FANOUT_CHANNEL.bare, credentials: null };
}

// ---------------------------------------------------------------- triggers

interface TriggerSender {
  /** Sends trigger `seq`; resolves with the time it was written (nowMs) and the HTTP status (0: failed). */
  send(seq: number): Promise<{ sentAt: number; status: number; error?: string }>;
  close(): void;
}

function createTriggerSender(server: ServerUnderTest, timeoutMs: number): TriggerSender {
  const base = new URL(server.handle.url);
  // Keep-alive; `timeout` below the server's 5 s keep-alive so an idle socket is never reused as it closes.
  const agent = new Agent({ keepAlive: true, maxSockets: 16, timeout: 4000 });
  const { credentials } = server;

  /** The path and query of one trigger: lib/sdk's RealtimeServer.send, minus its own HTTP client. */
  const pathFor = (body: string) => {
    if (!credentials) return "/trigger";
    const eventsPath = `/apps/${credentials.appId}/events`;
    const signed = signRequestParams(credentials, {
      method: "POST",
      path: eventsPath,
      body,
      timestamp: Math.floor(Date.now() / 1000),
    });
    const query = Object.entries(signed)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join("&");
    return `${eventsPath}?${query}`;
  };

  return {
    send(seq) {
      // The body RealtimeServer.trigger sends: {name, data, channels}.
      const body = JSON.stringify({ name: FANOUT_EVENT, data: String(seq), channels: [server.channel] });
      const requestPath = pathFor(body);
      return new Promise((resolve) => {
        let sentAt = 0;
        const req = request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method: "POST",
            path: requestPath,
            headers: {
              accept: "application/json",
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            res.on("error", (err) => resolve({ sentAt, status: 0, error: err.message }));
            res.on("end", () => resolve({ sentAt, status: res.statusCode ?? 0 }));
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error("trigger timeout")));
        req.on("error", (err) => resolve({ sentAt, status: 0, error: err.message }));
        sentAt = nowMs();
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}

// ---------------------------------------------------------------- holders

type Reply<T extends HolderMessage["type"]> = Extract<HolderMessage, { type: T }>;

interface Holder {
  pid: number;
  subscribed: number;
  send(command: HolderCommand): void;
  /** The next message of this type (one already received and not yet taken counts). */
  next<T extends HolderMessage["type"]>(type: T, timeoutMs: number): Promise<Reply<T>>;
  close(): Promise<Record<string, number>>;
}

/** Counts `seq` notices from the holders: a trigger is complete once every holder with a subscriber sent its own. */
class SeqTracker {
  /** Holders with at least one subscribed socket (set once they are ready). */
  holders = 0;
  private readonly counts = new Map<number, number>();
  private readonly waiters = new Map<number, () => void>();
  notice(seq: number) {
    const n = (this.counts.get(seq) ?? 0) + 1;
    this.counts.set(seq, n);
    if (n === this.holders) this.waiters.get(seq)?.();
  }
  waitFor(seq: number): Promise<void> {
    if ((this.counts.get(seq) ?? 0) >= this.holders) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(seq, resolve));
  }
}

function startHolder(
  options: HolderOptions,
  onSeq: (seq: number) => void,
): Holder & { ready: Promise<Reply<"ready">> } {
  const child: ChildProcess = fork(HOLDER_SCRIPT, [JSON.stringify(options)], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  trackChild(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const queues = new Map<string, HolderMessage[]>();
  const waiters = new Map<string, (message: HolderMessage) => void>();
  let exitCode: number | null | undefined;
  child.once("exit", (code) => {
    exitCode = code;
  });
  child.on("message", (msg: unknown) => {
    const message = msg as HolderMessage;
    if (message.type === "seq") return onSeq(message.seq);
    // A new phase starts: what is left of the previous one's notices no longer counts.
    if (message.type === "recording") queues.delete("phase-done");
    const waiter = waiters.get(message.type);
    if (waiter) {
      waiters.delete(message.type);
      waiter(message);
    } else queues.set(message.type, [...(queues.get(message.type) ?? []), message]);
  });
  const next = <T extends HolderMessage["type"]>(type: T, timeoutMs: number): Promise<Reply<T>> => {
    const queued = queues.get(type)?.shift();
    if (queued) return Promise.resolve(queued as Reply<T>);
    if (exitCode !== undefined) return Promise.reject(new Error(`channel holder exited (${exitCode})`));
    const work = new Promise<Reply<T>>((resolve, reject) => {
      waiters.set(type, (message) => resolve(message as Reply<T>));
      void exited.then(() => reject(new Error(`channel holder exited (${exitCode}) while waiting for ${type}`)));
    });
    return within(timeoutMs, `channel holder: no ${type} in ${timeoutMs} ms`, work).finally(() => waiters.delete(type));
  };
  const holder = {
    pid: child.pid ?? 0,
    subscribed: 0,
    // 250 sockets connect and subscribe in a few seconds; this only bounds a hung holder.
    ready: next("ready", Math.min(options.maxLifetimeMs, 120_000)),
    send(command: HolderCommand) {
      if (child.connected) child.send(command);
    },
    next,
    async close() {
      let errors: Record<string, number> = {};
      if (exitCode === undefined && child.connected) {
        child.send({ type: "close" } satisfies HolderCommand);
        errors = await next("closed", 15_000).then(
          (reply) => reply.errors,
          () => ({ "holder did not close": 1 }),
        );
      }
      const isDone = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!isDone) child.kill("SIGKILL");
      return errors;
    },
  };
  // Awaited by openSide; this only keeps a holder that dies before anyone waits from crashing the run.
  holder.ready.catch(() => undefined);
  return holder;
}

async function collect(holders: Holder[], sentAt: number[], timeoutMs: number, measureFrom = 0) {
  for (const holder of holders) holder.send({ type: "collect", sentAt, measureFrom });
  const replies = await Promise.all(holders.map((h) => h.next("collected", timeoutMs)));
  const latencies: number[] = [];
  const lastArrival = new Array<number>(sentAt.length).fill(0);
  const errors: Record<string, number> = {};
  for (const reply of replies) {
    for (const latency of reply.latencies) latencies.push(latency);
    reply.lastArrival.forEach((at, i) => {
      if (at > lastArrival[i]!) lastArrival[i] = at;
    });
    mergeErrors(errors, reply.errors);
  }
  return { latencies, lastArrival, errors };
}

async function record(holders: Holder[], firstSeq: number, count: number, notifyEachSeq: boolean, timeoutMs: number) {
  for (const holder of holders) holder.send({ type: "record", event: FANOUT_EVENT, firstSeq, count, notifyEachSeq });
  await Promise.all(holders.map((h) => h.next("recording", timeoutMs)));
}

/** Waits for every holder's `phase-done`; a timeout is not thrown: the collect reports what is missing. */
async function awaitPhaseDone(holders: Holder[], timeoutMs: number) {
  await Promise.allSettled(holders.map((h) => h.next("phase-done", timeoutMs)));
}

// ---------------------------------------------------------------- fan-out

/** One server under test with its subscribers, its trigger sender and its fan-out errors. */
interface Side {
  server: ServerUnderTest;
  holders: Holder[];
  seqs: SeqTracker;
  sender: TriggerSender;
  subscribed: number;
  nextSeq: number;
  /** Connect/subscribe failures, failed triggers, wrong or missing deliveries, disconnects. */
  errors: Record<string, number>;
}

async function openSide(server: ServerUnderTest, options: ChannelsBenchOptions): Promise<Side> {
  const seqs = new SeqTracker();
  const per = Math.ceil(options.subscribers / Math.min(options.holders, options.subscribers));
  const side: Side = {
    server,
    holders: [],
    seqs,
    sender: createTriggerSender(server, options.timeoutMs),
    subscribed: 0,
    nextSeq: 1,
    errors: {},
  };
  const starting: Array<Holder & { ready: Promise<Reply<"ready">> }> = [];
  for (let left = options.subscribers; left > 0; left -= per) {
    const holder = startHolder(
      {
        url: server.handle.url,
        count: Math.min(per, left),
        batch: options.connectBatch,
        channel: server.channel,
        credentials: server.credentials,
        timeoutMs: options.timeoutMs,
        maxLifetimeMs: 300_000,
      },
      (seq) => seqs.notice(seq),
    );
    starting.push(holder);
    side.holders.push(holder);
  }
  try {
    for (const holder of starting) {
      const ready = await holder.ready;
      holder.subscribed = ready.subscribed;
      side.subscribed += ready.subscribed;
      if (ready.subscribed > 0) seqs.holders++;
      mergeErrors(side.errors, ready.errors, "connect/subscribe: ");
    }
  } catch (err) {
    await closeSide(side);
    throw err;
  }
  countError(side.errors, "subscribers not subscribed", options.subscribers - side.subscribed);
  return side;
}

async function closeSide(side: Side): Promise<void> {
  side.sender.close();
  for (const holder of side.holders) mergeErrors(side.errors, await holder.close(), "holder: ");
}

/** Sends one trigger and keeps its write time in `sentAt[index]` (-1 and an error when it failed). */
async function sendChecked(side: Side, seq: number, sentAt: number[], index: number): Promise<void> {
  const result = await side.sender.send(seq);
  if (result.status === 200) sentAt[index] = result.sentAt;
  else {
    sentAt[index] = -1;
    countError(side.errors, `trigger ${result.status === 0 ? (result.error ?? "failed") : `HTTP ${result.status}`}`);
  }
}

type SingleMeasurement = FanoutMeasurement["single"];

/**
 * Triggers one at a time, each after the previous one's last delivery, alternating between the
 * sides trigger by trigger (the first side alternates too), so both meet the same moments of the
 * machine's other load.
 */
async function runSingle(sides: Side[], count: number, timeoutMs: number): Promise<SingleMeasurement[]> {
  const phases = await Promise.all(
    sides.map(async (side) => {
      const firstSeq = side.nextSeq;
      side.nextSeq += count;
      await record(side.holders, firstSeq, count, true, timeoutMs);
      return { side, firstSeq, sentAt: new Array<number>(count).fill(-1) };
    }),
  );
  for (let i = 0; i < count; i++) {
    const order = i % 2 === 0 ? phases : [...phases].reverse();
    for (const { side, firstSeq, sentAt } of order) {
      const seq = firstSeq + i;
      const complete = side.seqs.waitFor(seq);
      await sendChecked(side, seq, sentAt, i);
      // Missing deliveries are reported by the collect; the loop only stops waiting.
      if (sentAt[i]! >= 0) await within(timeoutMs, "", complete).catch(() => undefined);
    }
  }
  const results: SingleMeasurement[] = [];
  for (const { side, sentAt } of phases) {
    const collected = await collect(side.holders, sentAt, timeoutMs);
    mergeErrors(side.errors, collected.errors);
    const toLast: number[] = [];
    const rates: number[] = [];
    for (let i = 0; i < count; i++) {
      if (sentAt[i]! < 0 || collected.lastArrival[i] === 0) continue;
      const ms = collected.lastArrival[i]! - sentAt[i]!;
      toLast.push(ms);
      rates.push((side.subscribed * 1000) / ms);
    }
    results.push({
      triggers: toLast.length,
      toLastDelivery: summarizeMs(toLast),
      deliveriesPerSec: Math.round(summarizeMs(rates).p50),
    });
  }
  return results;
}

/** Triggers back to back over `connections` keep-alive connections. */
async function runBurst(side: Side, options: ChannelsBenchOptions): Promise<FanoutMeasurement["burst"]> {
  const count = options.burstTriggers;
  const firstSeq = side.nextSeq;
  side.nextSeq += count;
  await record(side.holders, firstSeq, count, false, options.timeoutMs);
  const sentAt = new Array<number>(count).fill(-1);
  let cursor = 0;
  await Promise.all(
    Array.from({ length: options.burstConnections }, async () => {
      while (cursor < count) {
        const i = cursor++;
        await sendChecked(side, firstSeq + i, sentAt, i);
      }
    }),
  );
  await awaitPhaseDone(side.holders, options.timeoutMs);
  const collected = await collect(side.holders, sentAt, options.timeoutMs);
  mergeErrors(side.errors, collected.errors);
  const sent = sentAt.filter((at) => at >= 0);
  const elapsedMs = sent.length > 0 ? Math.max(...collected.lastArrival) - Math.min(...sent) : 0;
  const deliveries = collected.latencies.length;
  return {
    triggers: count,
    connections: options.burstConnections,
    elapsedMs: round2(elapsedMs),
    deliveries,
    deliveriesPerSec: elapsedMs > 0 ? Math.round((deliveries * 1000) / elapsedMs) : 0,
  };
}

/** Triggers on a fixed schedule (open loop); the warm-up's deliveries are checked, not measured. */
async function runSteady(
  side: Side,
  rate: number,
  options: ChannelsBenchOptions,
  profilePath: string | undefined,
): Promise<SteadyMeasurement> {
  const interval = 1000 / rate;
  const warmCount = Math.round((options.steadyWarmupMs / 1000) * rate);
  const count = warmCount + Math.round((options.steadyMs / 1000) * rate);
  const firstSeq = side.nextSeq;
  side.nextSeq += count;
  await record(side.holders, firstSeq, count, false, options.timeoutMs);
  const sentAt = new Array<number>(count).fill(-1);
  const pids = side.holders.map((h) => h.pid);
  const readCpu = async () => ({
    server: await side.server.handle.readCpuSeconds(),
    holders: (await Promise.all(pids.map((pid) => readCpuSeconds(pid).catch(() => 0)))).reduce((a, b) => a + b, 0),
    self: process.cpuUsage(),
    at: nowMs(),
  });
  if (profilePath) await side.server.handle.startProfile();
  const before = await readCpu();
  const sending: Array<Promise<void>> = [];
  const start = nowMs() + 5;
  for (let i = 0; i < count; i++) {
    const wait = start + i * interval - nowMs();
    if (wait >= 1) await sleep(wait);
    sending.push(sendChecked(side, firstSeq + i, sentAt, i));
  }
  await Promise.all(sending);
  await awaitPhaseDone(side.holders, options.timeoutMs);
  const after = await readCpu();
  if (profilePath) await side.server.handle.stopProfile(profilePath);
  const collected = await collect(side.holders, sentAt, options.timeoutMs, warmCount);
  mergeErrors(side.errors, collected.errors);

  const measured = sentAt.slice(warmCount).filter((at) => at >= 0);
  const wallSeconds = Math.max(0.001, (after.at - before.at) / 1000);
  const self = process.cpuUsage(before.self);
  return {
    rate,
    achievedRate:
      measured.length > 1
        ? round2(((measured.length - 1) * 1000) / (measured[measured.length - 1]! - measured[0]!))
        : 0,
    triggers: measured.length,
    latency: summarizeMs(collected.latencies),
    serverCpuCores: round2((after.server - before.server) / wallSeconds),
    generatorCpuCores: round2((after.holders - before.holders + (self.user + self.system) / 1e6) / wallSeconds),
  };
}

// ---------------------------------------------------------------- presence churn

/** What the observer saw of the presence channel, checked as it arrives. */
class PresenceObserver {
  readonly added = new Map<string, number>();
  readonly removed = new Map<string, number>();
  readonly errors: Record<string, number> = {};
  private waiter: (() => void) | undefined;
  private isDone: () => boolean = () => false;

  constructor(private readonly users: number) {}

  onEvent(text: string, at: number) {
    let name: string;
    let payload: { channel?: unknown; user_id?: unknown; user_info?: unknown };
    try {
      [name, payload] = JSON.parse(text) as [string, typeof payload];
    } catch {
      return countError(this.errors, "observer: unparsable event");
    }
    if (name !== "presence:member_added" && name !== "presence:member_removed") {
      return countError(this.errors, `observer: unexpected ${name}`);
    }
    if (payload.channel !== PRESENCE_CHANNEL) return countError(this.errors, "observer: notice for another channel");
    const id = String(payload.user_id);
    const n = /^bench-user-(\d+)$/.exec(id)?.[1];
    if (n === undefined || Number(n) >= this.users) return countError(this.errors, "observer: unknown user id");
    if (name === "presence:member_added") {
      if ((payload.user_info as { n?: unknown } | null)?.n !== Number(n)) {
        countError(this.errors, "observer: member_added with the wrong user_info");
      }
      if (this.added.has(id)) countError(this.errors, "observer: duplicate member_added");
      else if (this.removed.has(id)) countError(this.errors, "observer: member_added after member_removed");
      else this.added.set(id, at);
    } else {
      if (this.removed.has(id)) countError(this.errors, "observer: duplicate member_removed");
      else if (!this.added.has(id)) countError(this.errors, "observer: member_removed before member_added");
      else this.removed.set(id, at);
    }
    if (this.waiter && this.isDone()) this.waiter();
  }

  /** Resolves once `isDone` holds (checked after every notice). */
  until(isDone: () => boolean, timeoutMs: number, what: string): Promise<void> {
    this.isDone = isDone;
    if (isDone()) return Promise.resolve();
    return within(
      timeoutMs,
      `observer: ${what} not complete in ${timeoutMs} ms`,
      new Promise<void>((resolve) => {
        this.waiter = resolve;
      }),
    ).finally(() => {
      this.waiter = undefined;
    });
  }
}

async function readUserCount(server: ServerUnderTest): Promise<number> {
  if (server.credentials) {
    const sdk = new RealtimeServer(server.credentials.appId, server.credentials.secret, {
      appKey: server.credentials.key,
      endpoint: server.handle.url,
    });
    const state = await sdk.channel(PRESENCE_CHANNEL, { info: "user_count" });
    return state.user_count ?? 0;
  }
  const response = await fetch(`${server.handle.url}/presence-count?channel=${PRESENCE_CHANNEL}`);
  return ((await response.json()) as { user_count: number }).user_count;
}

async function measurePresence(
  side: Side,
  options: ChannelsBenchOptions,
  profilePath: string | undefined,
): Promise<PresenceMeasurement> {
  const { server, holders } = side;
  const errors: Record<string, number> = {};
  const users = options.presenceUsers;
  const observer = new PresenceObserver(users);
  const socket = await MiniSocket.open({
    url: server.handle.url,
    waitForSocketId: true,
    timeoutMs: options.timeoutMs,
    onEvent: (text, at) => observer.onEvent(text, at),
  });
  let joinMs: number;
  let leaveMs: number;
  let countAfterJoins: number;
  let countAtEnd: number;
  let memberNotices: number;
  try {
    const channelData = JSON.stringify({ user_id: "bench-observer", user_info: { n: -1 } });
    const auth = server.credentials
      ? signChannelAuth(server.credentials, socket.socketId, PRESENCE_CHANNEL, channelData)
      : undefined;
    const ack = (await socket.emitWithAck(
      "channel:subscribe",
      { channel: PRESENCE_CHANNEL, ...(auth ? { auth } : {}), channel_data: channelData },
      options.timeoutMs,
    )) as { ok?: boolean; presence?: { count?: number } };
    if (!ack.ok || ack.presence?.count !== 1) throw new Error(`observer subscribe: ${JSON.stringify(ack)}`);

    // Users spread over the holders, each holder's share from its first sockets.
    const shares: Array<{ holder: Holder; users: number; userOffset: number }> = [];
    let left = users;
    for (const holder of holders) {
      const share = Math.min(left, Math.ceil(users / holders.length), holder.subscribed);
      shares.push({ holder, users: share, userOffset: users - left });
      left -= share;
    }
    if (left > 0) countError(errors, "users without a socket to join with", left);
    const joining = users - left;

    const phase = async (action: "join" | "leave", isDone: () => boolean, lastAt: () => number) => {
      for (const { holder, users: n, userOffset } of shares) {
        holder.send({ type: "presence", action, channel: PRESENCE_CHANNEL, users: n, userOffset });
      }
      const [replies] = await Promise.all([
        Promise.all(shares.map(({ holder }) => holder.next("presence-done", options.timeoutMs * 3))),
        observer
          .until(isDone, options.timeoutMs * 3, `${action}s`)
          .catch(() => countError(errors, `${action}s: notices missing`)),
      ]);
      for (const reply of replies) mergeErrors(errors, reply.errors);
      const startedAt = Math.min(...replies.map((r) => r.startedAt));
      return Math.max(0, lastAt() - startedAt);
    };
    const last = (times: Map<string, number>) => () => Math.max(0, ...times.values());
    if (profilePath) await server.handle.startProfile();
    joinMs = await phase("join", () => observer.added.size >= joining, last(observer.added));
    countAfterJoins = await readUserCount(server);
    if (countAfterJoins !== joining + 1) countError(errors, "wrong member count after the joins");
    leaveMs = await phase("leave", () => observer.removed.size >= joining, last(observer.removed));
    if (profilePath) await server.handle.stopProfile(profilePath);
    // Late duplicates would come now.
    await sleep(300);
    countAtEnd = await readUserCount(server);
    if (countAtEnd !== 1) countError(errors, "wrong member count at the end");
    for (const holder of holders) holder.send({ type: "presence-count" });
    const counts = await Promise.all(holders.map((h) => h.next("presence-count", options.timeoutMs)));
    memberNotices = counts.reduce((n, c) => n + c.notices, 0);
    countError(errors, "member_added missing", joining - observer.added.size);
    countError(errors, "member_removed missing", joining - observer.removed.size);
    mergeErrors(errors, observer.errors);
  } finally {
    if (socket.closeReason !== undefined) countError(errors, `observer disconnected: ${socket.closeReason}`);
    socket.close();
  }
  const events = observer.added.size + observer.removed.size;
  return {
    users,
    joinMs: round2(joinMs),
    leaveMs: round2(leaveMs),
    added: observer.added.size,
    removed: observer.removed.size,
    eventsPerSec: Math.round((events * 1000) / Math.max(0.001, joinMs + leaveMs)),
    memberNotices,
    countAfterJoins,
    countAtEnd,
    errors,
  };
}

// ---------------------------------------------------------------- channel auth

/** A real QR login through lib/client (browser) and lib/wallet (phone): the access token. */
async function logIn(url: string): Promise<{ accessToken: string; userId: string }> {
  const client = createLoginClient({ endpoint: url, ackTimeoutMs: 10_000 });
  try {
    const session = await client.start();
    const approved = client.waitForState(["approved"], { timeoutMs: 10_000 });
    const loginRequest = await fetchLoginRequest(session.qr);
    await approveLogin({ key: createWalletKey(), request: loginRequest, matchCode: session.matchCode });
    await approved;
    const redeemed = await client.redeem();
    return { accessToken: redeemed.accessToken, userId: redeemed.user.id };
  } finally {
    client.close();
  }
}

async function measureChannelAuth(
  server: ServerUnderTest,
  options: ChannelsBenchOptions,
  profiles: Record<string, string>,
): Promise<ChannelAuthMeasurement> {
  const credentials = server.credentials!;
  const errors: Record<string, number> = {};
  const { accessToken, userId } = await logIn(server.handle.url);
  const url = `${server.handle.url}/api/channel-auth`;
  const headers = { "content-type": "application/json", authorization: `Bearer ${accessToken}` };
  const body = JSON.stringify({ socket_id: AUTH_SOCKET_ID, channel_name: AUTH_CHANNEL });
  // One answer checked in full: the signature the official SDKs would compute, over channel_data.
  const response = await fetch(url, { method: "POST", headers, body });
  const answer = (await response.json()) as { auth?: string; channel_data?: string };
  const member = answer.channel_data ? (JSON.parse(answer.channel_data) as { user_id?: string }) : {};
  if (
    response.status !== 200 ||
    member.user_id !== userId ||
    answer.auth !== signChannelAuth(credentials, AUTH_SOCKET_ID, AUTH_CHANNEL, answer.channel_data)
  ) {
    countError(errors, `channel-auth answered ${response.status} ${JSON.stringify(answer)}`);
  }
  /** autocannon's warm-up, then the measured run with the server's CPU read around it. */
  const measure = async (
    target: string,
    extra: { method?: "POST"; headers?: Record<string, string>; body?: string },
  ) => {
    await measureThroughput(target, {
      ...options.http,
      ...extra,
      seconds: options.http.warmupSeconds,
      warmupSeconds: 0,
    });
    const cpuBefore = await server.handle.readCpuSeconds();
    const result = await measureThroughput(target, { ...options.http, ...extra, warmupSeconds: 0 });
    const cpuSeconds = (await server.handle.readCpuSeconds()) - cpuBefore;
    return { result, cores: round2(cpuSeconds / options.http.seconds) };
  };
  const health = await measure(`${server.handle.url}/api/health`, {});
  const profilePath = options.cpuProfileDir
    ? path.join(options.cpuProfileDir, "server-channel-auth.cpuprofile")
    : undefined;
  if (profilePath) await server.handle.startProfile();
  const authRun = await measure(url, { method: "POST", headers, body });
  const [apiHealth, channelAuth] = [health.result, authRun.result];
  if (profilePath) {
    await server.handle.stopProfile(profilePath);
    profiles["POST /api/channel-auth (autocannon, warm-up included)"] = profilePath;
  }
  for (const [name, result] of [
    ["GET /api/health", apiHealth],
    ["POST /api/channel-auth", channelAuth],
  ] as const) {
    countError(errors, `${name}: autocannon errors`, result.errors + result.timeouts);
    countError(errors, `${name}: non-2xx`, result.non2xx);
  }
  return {
    channelAuth,
    apiHealth,
    channelAuthServerCpuCores: authRun.cores,
    apiHealthServerCpuCores: health.cores,
    errors,
  };
}

// ---------------------------------------------------------------- the benchmark

export async function benchChannels(given: Partial<ChannelsBenchOptions> = {}): Promise<ChannelsBenchResult> {
  const { log = () => {}, ...options } = { ...DEFAULT_CHANNELS_BENCH, ...given };
  const cpuProfiles: Record<string, string> = {};
  const servers: ServerUnderTest[] = [];
  const sides: Side[] = [];
  try {
    const ours = await startOurs(makeCredentials(), options.presenceUsers);
    servers.push(ours);
    const bare = await startBare();
    servers.push(bare);

    // Alone on the machine, before any socket: autocannon needs the cores.
    log("channels: a QR login, then POST /api/channel-auth and GET /api/health (autocannon)...");
    const auth = await measureChannelAuth(ours, options, cpuProfiles);

    log(`channels: ${options.subscribers} subscribers on each server, then the fan-out phases...`);
    const oursSide = await openSide(ours, options);
    sides.push(oursSide);
    const bareSide = await openSide(bare, options);
    sides.push(bareSide);
    let phase = 0;
    /** One phase on both servers, the order alternating from phase to phase. */
    const onBoth = async <T>(name: string, run: (side: Side) => Promise<T>): Promise<{ ours: T; bare: T }> => {
      log(`channels: ${name}`);
      const first = phase++ % 2 === 0 ? bareSide : oursSide;
      const firstResult = await run(first);
      const secondResult = await run(first === bareSide ? oursSide : bareSide);
      return first === bareSide ? { bare: firstResult, ours: secondResult } : { ours: firstResult, bare: secondResult };
    };
    const profileOf = (side: Side, name: string, what: string) => {
      if (!options.cpuProfileDir) return undefined;
      const file = path.join(options.cpuProfileDir, `server-${name}-${side.server.kind}.cpuprofile`);
      cpuProfiles[`${side.server.kind} server, ${what}`] = file;
      return file;
    };

    log("channels: warm-up, then single triggers (alternating between the servers)");
    await runSingle([bareSide, oursSide], options.warmupTriggers, options.timeoutMs);
    const [bareSingle, oursSingle] = await runSingle([bareSide, oursSide], options.singleTriggers, options.timeoutMs);
    const single = { bare: bareSingle!, ours: oursSingle! };
    const burst = await onBoth("burst", (side) => runBurst(side, options));
    const steady = await onBoth(`steady ${options.steadyRate} triggers/s`, (side) =>
      runSteady(
        side,
        options.steadyRate,
        options,
        profileOf(side, "fanout", `steady ${options.steadyRate} triggers/s`),
      ),
    );
    const light = await onBoth(`steady ${options.lightRate} triggers/s`, (side) =>
      runSteady(side, options.lightRate, options, undefined),
    );
    const presence = await onBoth(`presence churn, ${options.presenceUsers} users`, (side) =>
      measurePresence(side, options, profileOf(side, "presence", "presence churn")),
    );
    for (const side of sides.splice(0)) await closeSide(side);

    const measurement = (side: Side, kind: "ours" | "bare"): ServerChannelsMeasurement => {
      const fanout: FanoutMeasurement = {
        subscribers: options.subscribers,
        subscribed: side.subscribed,
        single: single[kind],
        burst: burst[kind],
        steady: steady[kind],
        light: light[kind],
        errors: side.errors,
      };
      return {
        server: side.server.handle.name,
        fanout,
        presence: presence[kind],
        errorCount: sumErrors(side.errors) + sumErrors(presence[kind].errors),
      };
    };
    return {
      options,
      ours: measurement(oursSide, "ours"),
      bare: measurement(bareSide, "bare"),
      auth,
      cpuProfiles,
    };
  } catch (err) {
    const outputs = servers.map((server) => `--- ${server.handle.name} output ---\n${server.handle.output()}`);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${outputs.join("\n")}`, { cause: err });
  } finally {
    for (const side of sides) await closeSide(side);
    for (const server of servers) await server.handle.stop();
  }
}
