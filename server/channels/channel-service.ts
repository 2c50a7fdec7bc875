/*
 * Channel subscriptions and presence for the sockets of this node (docs/protocol.md section 2).
 *
 * Rules:
 * - The stores hold the truth (presence-types.ts); this node keeps only which of ITS
 *   sockets are subscribed where, to clean up when they leave.
 * - Everything one socket does (subscribe, unsubscribe, disconnect) runs in order, one
 *   step at a time, so a disconnect that arrives during a subscribe still removes it.
 * - presence member_added / member_removed are announced exactly once per user: only by
 *   the caller whose atomic store operation took the user's connection count from 0 to 1
 *   or back to 0.
 * - Node leases: this node renews its lease every NODE_TIMEOUT/3. Every node also looks,
 *   just as often, for nodes whose lease lapsed and removes their subscriptions, which
 *   announces the members that leaves gone. So a killed node's members are gone at most
 *   NODE_TIMEOUT + NODE_TIMEOUT/3 (plus the sweep itself) after its last renewal.
 * - A node that finds its own lease lapsed (Redis was away or came back empty, the event
 *   loop stalled) has been or will be swept: it takes a new node id and stores its
 *   sockets' private and public subscriptions again under it, so those sockets stay
 *   connected and subscribed. Sockets in a presence channel cannot be mended in place:
 *   their members' lists may hold a member that is gone (a node died while Redis was
 *   away) that no one will announce removed. Their connections are closed
 *   (onPresenceLost); the clients reconnect and subscribe again, and each gets a fresh
 *   snapshot.
 * - While the store is unreachable (UnavailableError) the retried clean-ups and the lease
 *   log at debug: the outage itself is logged once, by server/availability.ts.
 * - A failed clean-up (store unreachable) is retried on every tick until it succeeds, so
 *   a socket that left never stays a member while this node lives.
 */
import { readChannelKind, type ChannelKind, type PresenceSnapshot } from "../../lib/protocol/channels";
import { randomBase64url } from "../crypto/random";
import type { Logger } from "../logger";
import type { NodeSubscription, PresenceMemberRecord, PresenceStore } from "../store/types";
import { UnavailableError } from "../availability";

export type PresenceNotice =
  | { type: "member_added"; channel: string; userId: string; userInfo: unknown; exceptSocketId: string }
  | { type: "member_removed"; channel: string; userId: string };

export type ChannelSubscribeResult =
  | { ok: true; presence?: PresenceSnapshot }
  | { ok: false; code: "over_capacity" | "too_many_channels" | "unavailable" };

export interface ChannelServiceOptions {
  store: PresenceStore;
  log: Logger;
  /** A node that has not renewed its lease for this long is dead. */
  nodeTimeoutMs: number;
  maxPresenceMembers: number;
  maxChannelsPerSocket: number;
  notify: (notice: PresenceNotice) => void;
  /** This node's lease lapsed: close these sockets' connections (they are in presence channels). */
  onPresenceLost: (socketIds: string[]) => void;
}

export interface ChannelService {
  /** The current node id (it changes when a lapsed lease is replaced). */
  readonly nodeId: string;
  start(): Promise<void>;
  subscribe(input: {
    socketId: string;
    channel: string;
    member?: PresenceMemberRecord;
  }): Promise<ChannelSubscribeResult>;
  unsubscribe(socketId: string, channel: string): Promise<void>;
  /** The socket is gone: every subscription it had is removed. Safe to call twice. */
  removeSocket(socketId: string): Promise<void>;
  /** One lease renewal and one sweep (what the timer runs). */
  runTick(): Promise<void>;
  /** This node's sockets' subscriptions by channel kind (read when metrics are scraped). */
  countLocalSubscriptions(): Record<ChannelKind, number>;
  close(): Promise<void>;
}

interface LocalSubscription {
  /** The node id it was stored under (an older one after a lapsed lease). */
  nodeId: string;
}

const SWEEP_BATCH = 200;
/** Subscriptions of dead nodes one tick removes at most, so a huge node cannot stall the loop. */
const SWEEP_BUDGET_PER_TICK = 5_000;

export function createChannelService(options: ChannelServiceOptions): ChannelService {
  const { store, log, nodeTimeoutMs, notify } = options;
  const tickMs = Math.max(100, Math.floor(nodeTimeoutMs / 3));
  const createNodeId = () => `n${randomBase64url(12)}`;
  let nodeId = createNodeId();

  /** socket id -> channel -> where it is stored */
  const local = new Map<string, Map<string, LocalSubscription>>();
  /** socket id -> the tail of its queue of operations */
  const queues = new Map<string, Promise<unknown>>();
  /** clean-ups that failed, retried each tick */
  const retries = new Map<string, NodeSubscription & { nodeId: string }>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let tickRunning: Promise<void> | undefined;
  let leaseRenewal: Promise<void> | undefined;
  let isClosed = false;

  /** Runs `step` after everything queued before it for this socket. */
  function enqueue<T>(socketId: string, step: () => Promise<T>): Promise<T> {
    const previous = queues.get(socketId) ?? Promise.resolve();
    const next = previous.then(step, step);
    const tail = next.catch(() => undefined);
    queues.set(socketId, tail);
    void tail.then(() => {
      if (queues.get(socketId) === tail) queues.delete(socketId);
    });
    return next;
  }

  async function removeStored(channel: string, socketId: string, ownerNodeId: string): Promise<void> {
    const retryKey = `${ownerNodeId} ${socketId} ${channel}`;
    try {
      const outcome = await store.unsubscribe({ channel, socketId, nodeId: ownerNodeId });
      retries.delete(retryKey);
      if (outcome.memberRemoved !== undefined) {
        notify({ type: "member_removed", channel, userId: outcome.memberRemoved });
      }
    } catch (err) {
      retries.set(retryKey, { channel, socketId, nodeId: ownerNodeId });
      logFailure(err, { channel }, "channel clean-up failed; retrying on the next tick");
    }
  }

  function logFailure(err: unknown, fields: Record<string, unknown>, message: string) {
    if (err instanceof UnavailableError) log.debug({ ...fields, dependency: err.dependency }, message);
    else log.warn({ err, ...fields }, message);
  }

  /**
   * After a new lease: private and public subscriptions are stored again under the new id;
   * the sockets in presence channels are handed to onPresenceLost (see the rules above).
   */
  async function restoreSubscriptions(): Promise<void> {
    const presenceSockets: string[] = [];
    for (const [socketId, mine] of [...local]) {
      if ([...mine.keys()].some((channel) => readChannelKind(channel) === "presence")) {
        presenceSockets.push(socketId);
        continue;
      }
      for (const channel of mine.keys()) {
        await enqueue(socketId, async () => {
          const entry = local.get(socketId)?.get(channel);
          if (!entry || entry.nodeId === nodeId) return;
          // The old record first: a subscribe finding it would keep it under the lapsed id.
          await store.unsubscribe({ channel, socketId, nodeId: entry.nodeId });
          const outcome = await store.subscribe({
            channel,
            socketId,
            nodeId,
            maxMembers: options.maxPresenceMembers,
          });
          if (outcome.ok) entry.nodeId = nodeId;
        }).catch((err: unknown) => logFailure(err, { channel }, "storing a subscription again failed"));
      }
    }
    if (presenceSockets.length > 0) options.onPresenceLost(presenceSockets);
  }

  /** Our lease lapsed: a new id for what comes next, and our sockets start over. */
  function replaceLease(): Promise<void> {
    leaseRenewal ??= (async () => {
      const lost = nodeId;
      nodeId = createNodeId();
      log.warn({ lostNodeId: lost, nodeId }, "this node's channel lease lapsed; storing its subscriptions again");
      await store.registerNode(nodeId, nodeTimeoutMs);
      await restoreSubscriptions();
    })().finally(() => {
      leaseRenewal = undefined;
    });
    return leaseRenewal;
  }

  async function sweepDeadNodes(): Promise<void> {
    let budget = SWEEP_BUDGET_PER_TICK;
    for (const deadNodeId of await store.listExpiredNodes()) {
      for (;;) {
        if (budget <= 0) return;
        const batch = await store.listNodeSubscriptions(deadNodeId, Math.min(SWEEP_BATCH, budget));
        if (batch.length === 0) break;
        budget -= batch.length;
        for (const { channel, socketId } of batch) await removeStored(channel, socketId, deadNodeId);
      }
      if (await store.removeNode(deadNodeId, { onlyIfExpired: true })) {
        log.info({ deadNodeId }, "removed the channel subscriptions of a node whose lease lapsed");
      }
    }
  }

  async function runTick(): Promise<void> {
    if (tickRunning) return tickRunning;
    tickRunning = (async () => {
      try {
        if (!(await store.renewNode(nodeId, nodeTimeoutMs))) await replaceLease();
      } catch (err) {
        logFailure(err, {}, "channel lease renewal failed");
      }
      for (const { channel, socketId, nodeId: owner } of [...retries.values()]) {
        await removeStored(channel, socketId, owner);
      }
      try {
        await sweepDeadNodes();
      } catch (err) {
        logFailure(err, {}, "sweeping dead nodes failed");
      }
    })().finally(() => {
      tickRunning = undefined;
    });
    return tickRunning;
  }

  function toSnapshot(members: PresenceMemberRecord[]): PresenceSnapshot {
    // User ids come from outside: a Map, then own properties (a `__proto__` id stays a member).
    const infos = new Map<string, unknown>();
    for (const { userId, userInfo } of members) infos.set(userId, JSON.parse(userInfo) as unknown);
    return { ids: [...infos.keys()], hash: Object.fromEntries(infos), count: members.length };
  }

  return {
    get nodeId() {
      return nodeId;
    },

    async start() {
      await store.registerNode(nodeId, nodeTimeoutMs);
      timer = setInterval(() => void runTick(), tickMs);
      // Housekeeping must never keep the process (or a test run) alive.
      timer.unref();
    },

    subscribe({ socketId, channel, member }) {
      return enqueue(socketId, async (): Promise<ChannelSubscribeResult> => {
        if (isClosed) return { ok: false, code: "unavailable" };
        const mine = local.get(socketId) ?? new Map<string, LocalSubscription>();
        if (!mine.has(channel) && mine.size >= options.maxChannelsPerSocket) {
          return { ok: false, code: "too_many_channels" };
        }
        const storedUnder = mine.get(channel)?.nodeId ?? nodeId;
        const input = { channel, socketId, nodeId: storedUnder, member, maxMembers: options.maxPresenceMembers };
        let outcome;
        try {
          outcome = await store.subscribe(input);
        } catch (err) {
          // The write may or may not have happened: take it back so it cannot linger.
          if (!mine.has(channel)) await removeStored(channel, socketId, storedUnder);
          throw err;
        }
        if (!outcome.ok) {
          if (outcome.code === "over_capacity") return { ok: false, code: "over_capacity" };
          await replaceLease();
          return { ok: false, code: "unavailable" };
        }
        mine.set(channel, { nodeId: storedUnder });
        local.set(socketId, mine);
        if (outcome.memberAdded && member) {
          notify({
            type: "member_added",
            channel,
            userId: member.userId,
            userInfo: JSON.parse(member.userInfo) as unknown,
            exceptSocketId: socketId,
          });
        }
        return outcome.members ? { ok: true, presence: toSnapshot(outcome.members) } : { ok: true };
      });
    },

    unsubscribe(socketId, channel) {
      return enqueue(socketId, async () => {
        const mine = local.get(socketId);
        const entry = mine?.get(channel);
        if (!mine || !entry) return;
        mine.delete(channel);
        if (mine.size === 0) local.delete(socketId);
        await removeStored(channel, socketId, entry.nodeId);
      });
    },

    removeSocket(socketId) {
      return enqueue(socketId, async () => {
        const mine = local.get(socketId);
        if (!mine) return;
        local.delete(socketId);
        for (const [channel, entry] of mine) await removeStored(channel, socketId, entry.nodeId);
      });
    },

    runTick,

    countLocalSubscriptions() {
      const counts: Record<ChannelKind, number> = { public: 0, private: 0, presence: 0 };
      for (const mine of local.values()) {
        for (const channel of mine.keys()) counts[readChannelKind(channel)]++;
      }
      return counts;
    },

    async close() {
      if (isClosed) return;
      isClosed = true;
      if (timer) clearInterval(timer);
      await tickRunning;
      await Promise.allSettled([...queues.values()]);
      // Sockets still here (the caller did not disconnect them) are removed now.
      for (const socketId of [...local.keys()]) {
        const mine = local.get(socketId)!;
        local.delete(socketId);
        for (const [channel, entry] of mine) await removeStored(channel, socketId, entry.nodeId);
      }
      try {
        await store.removeNode(nodeId, { onlyIfExpired: false });
      } catch (err) {
        log.warn({ err }, "could not forget this node's channel lease; it will lapse");
      }
    },
  };
}
