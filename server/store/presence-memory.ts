/**
 * In-memory channel subscriptions and presence members: the embedded default for a
 * single node (see presence-types.ts for the model).
 *
 * Rules:
 * - Every operation is synchronous inside one call (no await between its check and its
 *   write), so it is atomic within this process; nothing is shared between processes.
 * - Leases work as in Redis, with this process's clock (or the one passed in), so the same code (and the same
 *   tests) run on both; with one process they only matter to tests that play several nodes.
 * - A channel with no subscription left is forgotten at once.
 */
import type {
  ChannelCounts,
  ChannelSubscribeOutcome,
  NodeSubscription,
  PresenceMemberRecord,
  PresenceStore,
} from "./presence-types";

interface ChannelEntry {
  /** socket id -> owning node and, on presence channels, user id */
  subscriptions: Map<string, { nodeId: string; userId?: string }>;
  /** user id -> subscribed sockets */
  connections: Map<string, number>;
  /** user id -> user_info JSON text */
  infos: Map<string, string>;
}

const nodeEntryOf = (socketId: string, channel: string) => `${socketId} ${channel}`;

export function createMemoryPresenceStore(assertOpen: () => void, readNow: () => number = Date.now): PresenceStore {
  const channels = new Map<string, ChannelEntry>();
  /** node id -> lease end (epoch ms) */
  const leases = new Map<string, number>();
  /** node id -> `${socketId} ${channel}` it owns */
  const nodeSubscriptions = new Map<string, Set<string>>();

  const isLeaseLive = (nodeId: string) => (leases.get(nodeId) ?? 0) >= readNow();

  const listMembersOf = (entry: ChannelEntry): PresenceMemberRecord[] =>
    [...entry.infos].map(([userId, userInfo]) => ({ userId, userInfo }));

  return {
    async registerNode(nodeId, leaseMs) {
      assertOpen();
      leases.set(nodeId, readNow() + leaseMs);
    },

    async renewNode(nodeId, leaseMs) {
      assertOpen();
      if (!isLeaseLive(nodeId)) return false;
      leases.set(nodeId, readNow() + leaseMs);
      return true;
    },

    async listExpiredNodes() {
      assertOpen();
      const now = readNow();
      return [...leases].filter(([, until]) => until < now).map(([nodeId]) => nodeId);
    },

    async listNodeSubscriptions(nodeId, limit): Promise<NodeSubscription[]> {
      assertOpen();
      const out: NodeSubscription[] = [];
      for (const item of nodeSubscriptions.get(nodeId) ?? []) {
        if (out.length >= limit) break;
        const space = item.indexOf(" ");
        out.push({ socketId: item.slice(0, space), channel: item.slice(space + 1) });
      }
      return out;
    },

    async removeNode(nodeId, { onlyIfExpired }) {
      assertOpen();
      if ((nodeSubscriptions.get(nodeId)?.size ?? 0) > 0) return false;
      if (onlyIfExpired && isLeaseLive(nodeId)) return false;
      nodeSubscriptions.delete(nodeId);
      return leases.delete(nodeId);
    },

    async subscribe({ channel, socketId, nodeId, member, maxMembers }): Promise<ChannelSubscribeOutcome> {
      assertOpen();
      if (!isLeaseLive(nodeId)) return { ok: false, code: "node_expired" };
      let entry = channels.get(channel);
      const existing = entry?.subscriptions.get(socketId);
      if (existing) {
        return { ok: true, isNew: false, memberAdded: false, members: member ? listMembersOf(entry!) : undefined };
      }
      const connections = member ? (entry?.connections.get(member.userId) ?? 0) : 0;
      if (member && connections === 0 && (entry?.connections.size ?? 0) >= maxMembers) {
        return { ok: false, code: "over_capacity" };
      }
      if (!entry) {
        entry = { subscriptions: new Map(), connections: new Map(), infos: new Map() };
        channels.set(channel, entry);
      }
      entry.subscriptions.set(socketId, { nodeId, userId: member?.userId });
      let owned = nodeSubscriptions.get(nodeId);
      if (!owned) nodeSubscriptions.set(nodeId, (owned = new Set()));
      owned.add(nodeEntryOf(socketId, channel));
      if (!member) return { ok: true, isNew: true, memberAdded: false };
      entry.connections.set(member.userId, connections + 1);
      if (connections === 0) entry.infos.set(member.userId, member.userInfo);
      return { ok: true, isNew: true, memberAdded: connections === 0, members: listMembersOf(entry) };
    },

    async unsubscribe({ channel, socketId, nodeId }) {
      assertOpen();
      nodeSubscriptions.get(nodeId)?.delete(nodeEntryOf(socketId, channel));
      const entry = channels.get(channel);
      const subscription = entry?.subscriptions.get(socketId);
      if (!entry || !subscription || subscription.nodeId !== nodeId) return { wasSubscribed: false };
      entry.subscriptions.delete(socketId);
      let memberRemoved: string | undefined;
      if (subscription.userId !== undefined) {
        const left = (entry.connections.get(subscription.userId) ?? 1) - 1;
        if (left > 0) {
          entry.connections.set(subscription.userId, left);
        } else {
          entry.connections.delete(subscription.userId);
          entry.infos.delete(subscription.userId);
          memberRemoved = subscription.userId;
        }
      }
      if (entry.subscriptions.size === 0) channels.delete(channel);
      return memberRemoved === undefined ? { wasSubscribed: true } : { wasSubscribed: true, memberRemoved };
    },

    async listChannels(prefix) {
      assertOpen();
      return [...channels]
        .filter(([name]) => name.startsWith(prefix))
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([channel, entry]) => ({ channel, ...countsOf(entry) }));
    },

    async readChannel(channel): Promise<ChannelCounts> {
      assertOpen();
      const entry = channels.get(channel);
      return entry ? countsOf(entry) : { subscriptionCount: 0, userCount: 0 };
    },

    async listMembers(channel) {
      assertOpen();
      return [...(channels.get(channel)?.connections.keys() ?? [])];
    },
  };
}

function countsOf(entry: ChannelEntry): ChannelCounts {
  return { subscriptionCount: entry.subscriptions.size, userCount: entry.connections.size };
}
