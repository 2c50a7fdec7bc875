/**
 * A child of the channels benchmark (bench/channels/): holds `count` subscriber sockets
 * (bench/ws-client.ts, the minimal client) subscribed to one channel, and checks every delivery.
 * Bounded: it exits by itself after `maxLifetimeMs` or when its parent goes.
 *
 * Options come as one JSON argument (HolderOptions). Over IPC, from the parent:
 * - `record` {phase, event, firstSeq, count, notifyEachSeq}: from now on every subscriber must get
 *   `channel:event` {channel, event, data: "<seq>"} exactly once for each seq in
 *   [firstSeq, firstSeq + count); each arrival is stamped with nowMs() (CLOCK_MONOTONIC, the same
 *   clock as the parent's). With notifyEachSeq it sends `seq` {seq} when all its subscribers have
 *   that seq; it always sends `phase-done` once every expected delivery arrived.
 * - `collect` {sentAt, measureFrom}: the send time of each seq of the phase (-1: not sent, none may
 *   arrive); answers `collected` with the latency (arrival - sentAt, ms) of every delivery from
 *   index `measureFrom` on (the ones before are checked only: a warm-up), the last arrival per
 *   seq, and the missing, duplicate and unexpected deliveries as errors.
 * - `presence` {action: "join" | "leave", channel, users, userOffset}: its first `users` sockets
 *   subscribe to (or unsubscribe from) the presence channel as users `bench-user-<offset + i>`,
 *   all at once; answers `presence-done` with the nowMs() before the first send and after the
 *   last ack. `presence-count` answers how many presence notices its sockets received so far.
 * - `close`: answers `closed` with its errors (unexpected disconnects included) and exits.
 */
import { signChannelAuth } from "../../lib/sdk/node";
import { MiniSocket, nowMs } from "../ws-client";
import { countError } from "../stats";

export interface HolderOptions {
  url: string;
  count: number;
  /** Sockets connected (and subscribed) at once. */
  batch: number;
  channel: string;
  /** Signs subscriptions (our server); null for the bare peer, which checks no auth. */
  credentials: { key: string; secret: string } | null;
  timeoutMs: number;
  maxLifetimeMs: number;
}

export type HolderMessage =
  | { type: "ready"; connected: number; subscribed: number; errors: Record<string, number> }
  | { type: "recording" }
  | { type: "seq"; seq: number }
  | { type: "phase-done" }
  | {
      type: "collected";
      latencies: number[];
      /** Per seq of the phase: the last arrival (nowMs), 0 when none arrived. */
      lastArrival: number[];
      delivered: number;
      errors: Record<string, number>;
    }
  | { type: "presence-done"; startedAt: number; finishedAt: number; errors: Record<string, number> }
  | { type: "presence-count"; notices: number }
  | { type: "closed"; errors: Record<string, number> };

export type HolderCommand =
  | { type: "record"; event: string; firstSeq: number; count: number; notifyEachSeq: boolean }
  | { type: "collect"; sentAt: number[]; measureFrom: number }
  | { type: "presence"; action: "join" | "leave"; channel: string; users: number; userOffset: number }
  | { type: "presence-count" }
  | { type: "close" };

interface Recording {
  event: string;
  firstSeq: number;
  count: number;
  notifyEachSeq: boolean;
  /** subscriber * count + (seq - firstSeq) -> arrival (nowMs), 0 = not yet */
  arrivals: Float64Array;
  perSeq: Uint32Array;
  delivered: number;
  errors: Record<string, number>;
}

const CHANNEL_EVENT_PREFIX = '["channel:event",';
const PRESENCE_EVENT_PREFIX = '["presence:';

const options = JSON.parse(process.argv[2] ?? "{}") as HolderOptions;
const errors: Record<string, number> = {};
const send = (message: HolderMessage) => process.send?.(message);

const lifetime = setTimeout(() => {
  console.error(`channel-holder: still running after ${options.maxLifetimeMs} ms, exiting`);
  process.exit(2);
}, options.maxLifetimeMs);
process.on("disconnect", () => process.exit(0));

/** By subscriber index; a socket that could not connect or subscribe is left out of every check. */
const sockets: Array<MiniSocket | undefined> = [];
const isSubscribed: boolean[] = [];
let subscribedCount = 0;
let recording: Recording | undefined;
let presenceNotices = 0;

/** One subscriber's deliveries: parse, check, stamp. The hot path of this process. */
function onEvent(subscriber: number, text: string, at: number) {
  if (!text.startsWith(CHANNEL_EVENT_PREFIX)) {
    // Presence notices reach these sockets too while they are members; the observer checks them.
    if (text.startsWith(PRESENCE_EVENT_PREFIX)) presenceNotices++;
    else countError(errors, "unexpected socket event");
    return;
  }
  const rec = recording;
  if (!rec) return countError(errors, "delivery outside a phase");
  let payload: { channel?: unknown; event?: unknown; data?: unknown };
  try {
    payload = (JSON.parse(text) as [string, typeof payload])[1];
  } catch {
    return countError(rec.errors, "unparsable delivery");
  }
  if (payload.channel !== options.channel || payload.event !== rec.event) {
    return countError(rec.errors, "delivery with a wrong channel or event name");
  }
  const index = Number(payload.data) - rec.firstSeq;
  if (!Number.isInteger(index) || index < 0 || index >= rec.count) {
    return countError(rec.errors, "delivery of a seq outside the phase");
  }
  const slot = subscriber * rec.count + index;
  if (rec.arrivals[slot] !== 0) return countError(rec.errors, "duplicate delivery");
  rec.arrivals[slot] = at;
  rec.delivered++;
  if (++rec.perSeq[index]! === subscribedCount && rec.notifyEachSeq) send({ type: "seq", seq: rec.firstSeq + index });
  if (rec.delivered === rec.count * subscribedCount) send({ type: "phase-done" });
}

async function subscribe(socket: MiniSocket, channel: string, channelData?: string): Promise<string | null> {
  const auth = options.credentials ? signChannelAuth(options.credentials, socket.socketId, channel, channelData) : null;
  const payload = { channel, ...(auth ? { auth } : {}), ...(channelData ? { channel_data: channelData } : {}) };
  try {
    const ack = (await socket.emitWithAck("channel:subscribe", payload, options.timeoutMs)) as {
      ok?: boolean;
      error?: { code?: string };
      presence?: { hash?: Record<string, unknown> };
    };
    if (!ack.ok) return `subscribe ${ack.error?.code ?? "failed"}`;
    if (channelData) {
      const { user_id: userId } = JSON.parse(channelData) as { user_id: string };
      if (!ack.presence?.hash || !(userId in ack.presence.hash)) return "presence snapshot without the joining user";
    }
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

async function openOne(subscriber: number): Promise<{ isConnected: boolean; isSubscribed: boolean }> {
  let socket: MiniSocket;
  try {
    socket = await MiniSocket.open({
      url: options.url,
      waitForSocketId: true,
      timeoutMs: options.timeoutMs,
      onEvent: (text, at) => onEvent(subscriber, text, at),
    });
  } catch (err) {
    countError(errors, `connect: ${err instanceof Error ? err.message : String(err)}`);
    return { isConnected: false, isSubscribed: false };
  }
  sockets[subscriber] = socket;
  const failure = await subscribe(socket, options.channel);
  if (failure) countError(errors, failure);
  else isSubscribed[subscriber] = true;
  return { isConnected: true, isSubscribed: failure === null };
}

async function runPresence(command: Extract<HolderCommand, { type: "presence" }>) {
  const phaseErrors: Record<string, number> = {};
  const members = sockets.filter((socket) => socket !== undefined).slice(0, command.users);
  const startedAt = nowMs();
  await Promise.all(
    members.map(async (socket, i) => {
      const userId = `bench-user-${command.userOffset + i}`;
      if (command.action === "join") {
        const channelData = JSON.stringify({ user_id: userId, user_info: { n: command.userOffset + i } });
        const failure = await subscribe(socket, command.channel, channelData);
        if (failure) countError(phaseErrors, `presence join: ${failure}`);
        return;
      }
      try {
        const ack = (await socket.emitWithAck(
          "channel:unsubscribe",
          { channel: command.channel },
          options.timeoutMs,
        )) as {
          ok?: boolean;
        };
        if (!ack.ok) countError(phaseErrors, "presence leave: unsubscribe refused");
      } catch (err) {
        countError(phaseErrors, `presence leave: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
  send({ type: "presence-done", startedAt, finishedAt: nowMs(), errors: phaseErrors });
}

function collect(sentAt: number[], measureFrom: number) {
  const rec = recording;
  recording = undefined;
  if (!rec) return send({ type: "collected", latencies: [], lastArrival: [], delivered: 0, errors: {} });
  const latencies: number[] = [];
  const lastArrival = new Array<number>(rec.count).fill(0);
  for (let s = 0; s < options.count; s++) {
    if (!isSubscribed[s]) continue;
    for (let i = 0; i < rec.count; i++) {
      const at = rec.arrivals[s * rec.count + i]!;
      const sent = sentAt[i] ?? -1;
      if (sent < 0) {
        if (at !== 0) countError(rec.errors, "delivery of a trigger that failed");
        continue;
      }
      if (at === 0) {
        countError(rec.errors, "missing delivery");
        continue;
      }
      if (i >= measureFrom) latencies.push(Math.round((at - sent) * 1000) / 1000);
      if (at > lastArrival[i]!) lastArrival[i] = at;
    }
  }
  send({ type: "collected", latencies, lastArrival, delivered: rec.delivered, errors: rec.errors });
}

process.on("message", (msg: unknown) => {
  const command = msg as HolderCommand;
  switch (command.type) {
    case "record":
      recording = {
        event: command.event,
        firstSeq: command.firstSeq,
        count: command.count,
        notifyEachSeq: command.notifyEachSeq,
        arrivals: new Float64Array(options.count * command.count),
        perSeq: new Uint32Array(command.count),
        delivered: 0,
        errors: {},
      };
      send({ type: "recording" });
      if (subscribedCount === 0) send({ type: "phase-done" });
      break;
    case "collect":
      collect(command.sentAt, command.measureFrom);
      break;
    case "presence":
      void runPresence(command);
      break;
    case "presence-count":
      send({ type: "presence-count", notices: presenceNotices });
      break;
    case "close":
      for (const socket of sockets) {
        if (!socket) continue;
        if (socket.closeReason !== undefined) countError(errors, `disconnected: ${socket.closeReason}`);
        socket.close();
      }
      clearTimeout(lifetime);
      send({ type: "closed", errors });
      // Give the close frames a moment to leave before the process goes.
      setTimeout(() => process.exit(0), 200);
      break;
  }
});

let connected = 0;
let subscribed = 0;
for (let done = 0; done < options.count;) {
  const size = Math.min(options.batch, options.count - done);
  const results = await Promise.all(Array.from({ length: size }, (_, i) => openOne(done + i)));
  for (const r of results) {
    if (r.isConnected) connected++;
    if (r.isSubscribed) subscribed++;
  }
  done += size;
}
subscribedCount = subscribed;
send({ type: "ready", connected, subscribed, errors });
