/** Presence churn: users join one presence channel and leave it, watched by an observer socket. */
import { RealtimeServer, signChannelAuth } from "../../lib/sdk/node";
import { countError, mergeErrors, sleep } from "../stats";
import { MiniSocket } from "../ws-client";
import type { Side } from "./fanout";
import type { Holder } from "./holders";
import type { ServerUnderTest } from "./servers";
import { PRESENCE_CHANNEL, round2, within } from "./shared";
import type { ChannelsBenchOptions, PresenceMeasurement } from "./types";

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

export async function measurePresence(
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
