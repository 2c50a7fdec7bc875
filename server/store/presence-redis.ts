/**
 * Channel subscriptions and presence members in Redis, shared by every node (see
 * presence-types.ts for the model).
 *
 * Keys (all under the prefix):
 * - `ch:list`            sorted set (score 0) of occupied channel names, for prefix listing
 * - `ch:subs:<channel>`  hash socket id -> {"n": node id, "u": user id or ""}
 * - `ch:conns:<channel>` hash user id -> subscribed sockets (presence)
 * - `ch:info:<channel>`  hash user id -> user_info JSON text (presence)
 * - `node:<nodeId>`      set of `<socketId> <channel>` the node owns
 * - `nodes`              sorted set node id -> lease end (epoch ms, Redis's clock)
 *
 * Rules:
 * - subscribe and unsubscribe are ONE Lua script each: the subscription, the per-user
 *   connection count, the member, the node's set and the channel list change together,
 *   and the script's answer (member added / removed) is given to exactly one caller.
 * - Every lease is compared with Redis's own clock (TIME), never a node's, so nodes
 *   with skewed clocks still agree on who is dead.
 * - A subscribe under a lapsed lease is refused, so a node that was declared dead can
 *   never add entries no sweeper will look at again.
 * - Key names are built by the caller and passed as KEYS (no key is computed in Lua).
 */
import type { Redis } from "ioredis";
import type {
  ChannelCounts,
  ChannelSubscribeOutcome,
  NodeSubscription,
  PresenceMemberRecord,
  PresenceStore,
} from "./presence-types";

type ScriptRunner = (keys: string[], args: string[]) => Promise<unknown>;

const NOW_MS_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** The sorted set of node leases (node id -> lease end, Redis's clock); the connection counter reads it too. */
export function presenceNodesKey(prefix: string): string {
  return `${prefix}nodes`;
}
/*
 * KEYS: subs, conns, info, list, nodeSet, nodes.
 * ARGV: channel, socketId, nodeId, userId ("" unless presence), userInfo, maxMembers.
 * Returns {-1} node_expired | {-2} over_capacity | {1, isNew, memberAdded, membersFlat?}.
 */
const SUBSCRIBE_SCRIPT = `${NOW_MS_LUA}
local lease = redis.call('ZSCORE', KEYS[6], ARGV[3])
if not lease or tonumber(lease) < now then return {-1} end
local isPresence = ARGV[4] ~= ''
local function members()
  if isPresence then return redis.call('HGETALL', KEYS[3]) end
  return {}
end
if redis.call('HEXISTS', KEYS[1], ARGV[2]) == 1 then return {1, 0, 0, members()} end
local added = 0
if isPresence then
  local count = tonumber(redis.call('HGET', KEYS[2], ARGV[4]) or '0')
  if count == 0 and redis.call('HLEN', KEYS[2]) >= tonumber(ARGV[6]) then return {-2} end
  redis.call('HINCRBY', KEYS[2], ARGV[4], 1)
  if count == 0 then
    redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
    added = 1
  end
end
redis.call('HSET', KEYS[1], ARGV[2], cjson.encode({n = ARGV[3], u = ARGV[4]}))
redis.call('SADD', KEYS[5], ARGV[2] .. ' ' .. ARGV[1])
redis.call('ZADD', KEYS[4], 0, ARGV[1])
return {1, 1, added, members()}
`;

/*
 * KEYS: subs, conns, info, list, nodeSet. ARGV: channel, socketId, nodeId.
 * Returns {0} not subscribed (by this node) | {1, removedUserId or ""}.
 */
const UNSUBSCRIBE_SCRIPT = `
redis.call('SREM', KEYS[5], ARGV[2] .. ' ' .. ARGV[1])
local raw = redis.call('HGET', KEYS[1], ARGV[2])
if not raw then return {0} end
local rec = cjson.decode(raw)
if rec.n ~= ARGV[3] then return {0} end
redis.call('HDEL', KEYS[1], ARGV[2])
local removed = ''
if rec.u ~= '' then
  local left = redis.call('HINCRBY', KEYS[2], rec.u, -1)
  if left <= 0 then
    redis.call('HDEL', KEYS[2], rec.u)
    redis.call('HDEL', KEYS[3], rec.u)
    removed = rec.u
  end
end
if redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[4], ARGV[1])
  redis.call('DEL', KEYS[2], KEYS[3])
end
return {1, removed}
`;

/* KEYS: nodes. ARGV: nodeId, leaseMs, mustBeLive ("1" renews only a live lease). Returns 1 | 0. */
const LEASE_SCRIPT = `${NOW_MS_LUA}
if ARGV[3] == '1' then
  local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if not lease or tonumber(lease) < now then return 0 end
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return 1
`;

/* KEYS: nodes. Returns the node ids whose lease ended before now. */
const EXPIRED_NODES_SCRIPT = `${NOW_MS_LUA}
return redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. now)
`;

/* KEYS: nodes, nodeSet. ARGV: nodeId, onlyIfExpired. Returns 1 when forgotten. */
const REMOVE_NODE_SCRIPT = `${NOW_MS_LUA}
if redis.call('SCARD', KEYS[2]) > 0 then return 0 end
if ARGV[2] == '1' then
  local lease = redis.call('ZSCORE', KEYS[1], ARGV[1])
  if lease and tonumber(lease) >= now then return 0 end
end
return redis.call('ZREM', KEYS[1], ARGV[1])
`;

export function createRedisPresenceStore(
  client: Redis,
  prefix: string,
  createScriptRunner: (client: Redis, script: string) => ScriptRunner,
): PresenceStore {
  const runSubscribe = createScriptRunner(client, SUBSCRIBE_SCRIPT);
  const runUnsubscribe = createScriptRunner(client, UNSUBSCRIBE_SCRIPT);
  const runLease = createScriptRunner(client, LEASE_SCRIPT);
  const runExpiredNodes = createScriptRunner(client, EXPIRED_NODES_SCRIPT);
  const runRemoveNode = createScriptRunner(client, REMOVE_NODE_SCRIPT);

  const listKey = `${prefix}ch:list`;
  const nodesKey = presenceNodesKey(prefix);
  const subsKey = (channel: string) => `${prefix}ch:subs:${channel}`;
  const connsKey = (channel: string) => `${prefix}ch:conns:${channel}`;
  const infoKey = (channel: string) => `${prefix}ch:info:${channel}`;
  const nodeKey = (nodeId: string) => `${prefix}node:${nodeId}`;
  const channelKeys = (channel: string, nodeId: string) => [
    subsKey(channel),
    connsKey(channel),
    infoKey(channel),
    listKey,
    nodeKey(nodeId),
  ];

  const readCounts = async (channels: string[]): Promise<ChannelCounts[]> => {
    if (channels.length === 0) return [];
    const pipeline = client.pipeline();
    for (const channel of channels) pipeline.hlen(subsKey(channel)).hlen(connsKey(channel));
    const replies = (await pipeline.exec()) ?? [];
    return channels.map((_, i) => ({
      subscriptionCount: readCount(replies[2 * i]),
      userCount: readCount(replies[2 * i + 1]),
    }));
  };

  return {
    async registerNode(nodeId, leaseMs) {
      await runLease([nodesKey], [nodeId, String(Math.ceil(leaseMs)), "0"]);
    },

    async renewNode(nodeId, leaseMs) {
      return (await runLease([nodesKey], [nodeId, String(Math.ceil(leaseMs)), "1"])) === 1;
    },

    async listExpiredNodes() {
      return (await runExpiredNodes([nodesKey], [])) as string[];
    },

    async listNodeSubscriptions(nodeId, limit): Promise<NodeSubscription[]> {
      const items = await client.srandmember(nodeKey(nodeId), limit);
      return items.map((item) => {
        const space = item.indexOf(" ");
        return { socketId: item.slice(0, space), channel: item.slice(space + 1) };
      });
    },

    async removeNode(nodeId, { onlyIfExpired }) {
      return (await runRemoveNode([nodesKey, nodeKey(nodeId)], [nodeId, onlyIfExpired ? "1" : "0"])) === 1;
    },

    async subscribe({ channel, socketId, nodeId, member, maxMembers }): Promise<ChannelSubscribeOutcome> {
      const reply = (await runSubscribe(
        [...channelKeys(channel, nodeId), nodesKey],
        [channel, socketId, nodeId, member?.userId ?? "", member?.userInfo ?? "", String(maxMembers)],
      )) as [number, number?, number?, string[]?];
      const [status, isNew, added, flat] = reply;
      if (status === -1) return { ok: false, code: "node_expired" };
      if (status === -2) return { ok: false, code: "over_capacity" };
      return {
        ok: true,
        isNew: isNew === 1,
        memberAdded: added === 1,
        members: member ? readMemberPairs(flat ?? []) : undefined,
      };
    },

    async unsubscribe({ channel, socketId, nodeId }) {
      const reply = (await runUnsubscribe(channelKeys(channel, nodeId), [channel, socketId, nodeId])) as [
        number,
        string?,
      ];
      const [status, removed] = reply;
      if (status !== 1) return { wasSubscribed: false };
      return removed ? { wasSubscribed: true, memberRemoved: removed } : { wasSubscribed: true };
    },

    async listChannels(prefix) {
      // Channel names are ASCII, so "\u00ff" (UTF-8 C3 BF) sorts after every name with the prefix.
      const channels =
        prefix === ""
          ? await client.zrange(listKey, 0, -1)
          : await client.zrangebylex(listKey, `[${prefix}`, `[${prefix}\u00ff`);
      const counts = await readCounts(channels);
      return channels.map((channel, i) => ({ channel, ...counts[i]! })).filter((entry) => entry.subscriptionCount > 0);
    },

    async readChannel(channel) {
      const [counts] = await readCounts([channel]);
      return counts ?? { subscriptionCount: 0, userCount: 0 };
    },

    async listMembers(channel) {
      return client.hkeys(connsKey(channel));
    },
  };
}

function readCount(reply: [Error | null, unknown] | undefined): number {
  if (!reply) return 0;
  const [error, value] = reply;
  if (error) throw error;
  return Number(value) || 0;
}

function readMemberPairs(flat: string[]): PresenceMemberRecord[] {
  const members: PresenceMemberRecord[] = [];
  for (let i = 0; i + 1 < flat.length; i += 2) members.push({ userId: flat[i]!, userInfo: flat[i + 1]! });
  return members;
}
