/**
 * One suite for the presence store (presence-types.ts), run against the memory stores
 * and against a real Redis (TEST_REDIS_URL or redis://127.0.0.1:6379), as
 * stores.test.ts does: locally the Redis half is skipped with a printed reason when no
 * server answers; in CI it fails instead. Redis keys use a prefix unique to the run and
 * only those keys are deleted at the end.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createManualClock } from "../../test/support/manual-clock";
import { createMemoryStores } from "./memory";
import { createRedisClient, createRedisStores } from "./redis";
import type { PresenceStore, Stores } from "./types";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const isCI = process.env.CI === "true";
const prefix = `test:${randomUUID()}:`;

const redisUnavailableReason = await probeRedis(REDIS_URL);
if (redisUnavailableReason) console.warn(`[presence-store.test] Redis half skipped: ${redisUnavailableReason}`);

async function probeRedis(url: string): Promise<string | null> {
  try {
    const client = await createRedisClient(url, { connectTimeoutMs: 1_500 });
    await client.quit();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const uniqueName = (kind: string) => `${kind}-${randomBytes(6).toString("hex")}`;
let socketCounter = 0;
const newSocketId = () => `${Date.now()}.${++socketCounter}`;
const member = (userId: string, info: unknown = { name: userId }) => ({ userId, userInfo: JSON.stringify(info) });

/**
 * `timePasses(ms)`: every lease is `ms` nearer its end, as if that much time had passed (the
 * memory store's clock moves; in Redis, whose own clock the leases are compared with, the
 * lease ends move back), so lease tests need no sleep.
 */
function describePresenceStore(
  name: string,
  makeStores: () => Promise<Stores>,
  timePasses: (ms: number) => Promise<void>,
) {
  describe(name, () => {
    let stores: Stores;
    let presence: PresenceStore;
    let nodeId: string;
    beforeAll(async () => {
      stores = await makeStores();
      presence = stores.presence;
      nodeId = uniqueName("node");
      await presence.registerNode(nodeId, 60_000);
    });
    afterAll(async () => {
      await stores?.close();
    });

    const subscribe = (channel: string, socketId: string, who?: ReturnType<typeof member>, maxMembers = 100) =>
      presence.subscribe({ channel, socketId, nodeId, member: who, maxMembers });
    const unsubscribe = (channel: string, socketId: string, owner = nodeId) =>
      presence.unsubscribe({ channel, socketId, nodeId: owner });

    it("keeps public subscriptions, counts them, and forgets an empty channel", async () => {
      const channel = uniqueName("news");
      const [a, b] = [newSocketId(), newSocketId()];
      expect(await subscribe(channel, a)).toEqual({ ok: true, isNew: true, memberAdded: false });
      expect(await subscribe(channel, b)).toEqual({ ok: true, isNew: true, memberAdded: false });
      expect(await subscribe(channel, b)).toEqual({ ok: true, isNew: false, memberAdded: false });
      expect(await presence.readChannel(channel)).toEqual({ subscriptionCount: 2, userCount: 0 });
      expect(await presence.listChannels(channel)).toEqual([{ channel, subscriptionCount: 2, userCount: 0 }]);
      expect(await unsubscribe(channel, a)).toEqual({ wasSubscribed: true });
      expect(await unsubscribe(channel, a)).toEqual({ wasSubscribed: false });
      expect(await unsubscribe(channel, b)).toEqual({ wasSubscribed: true });
      expect(await presence.readChannel(channel)).toEqual({ subscriptionCount: 0, userCount: 0 });
      expect(await presence.listChannels(channel)).toEqual([]);
    });

    it("lists occupied channels by prefix, sorted", async () => {
      const base = uniqueName("private-list");
      const names = [`${base}-b`, `${base}-a`, `${base}x`];
      for (const channel of names) await subscribe(channel, newSocketId());
      expect((await presence.listChannels(`${base}-`)).map((entry) => entry.channel)).toEqual([
        `${base}-a`,
        `${base}-b`,
      ]);
      expect((await presence.listChannels("")).map((entry) => entry.channel)).toEqual(expect.arrayContaining(names));
    });

    it("makes a user with several sockets one member: added on the first, removed after the last", async () => {
      const channel = uniqueName("presence-room");
      const [a1, a2, b1] = [newSocketId(), newSocketId(), newSocketId()];
      const alice = member("alice", { address: "0xA" });
      const first = await subscribe(channel, a1, alice);
      expect(first).toEqual({ ok: true, isNew: true, memberAdded: true, members: [alice] });
      expect(await subscribe(channel, a2, alice)).toMatchObject({ ok: true, isNew: true, memberAdded: false });
      const withBob = await subscribe(channel, b1, member("bob"));
      expect(withBob).toMatchObject({ ok: true, memberAdded: true });
      expect(withBob.ok && [...withBob.members!].sort((x, y) => x.userId.localeCompare(y.userId))).toEqual([
        alice,
        member("bob"),
      ]);
      expect(await presence.readChannel(channel)).toEqual({ subscriptionCount: 3, userCount: 2 });
      expect((await presence.listMembers(channel)).sort()).toEqual(["alice", "bob"]);

      expect(await unsubscribe(channel, a1)).toEqual({ wasSubscribed: true });
      expect(await unsubscribe(channel, a2)).toEqual({ wasSubscribed: true, memberRemoved: "alice" });
      expect(await presence.listMembers(channel)).toEqual(["bob"]);
      expect(await unsubscribe(channel, b1)).toEqual({ wasSubscribed: true, memberRemoved: "bob" });
      expect(await presence.listMembers(channel)).toEqual([]);
      expect(await presence.listChannels(channel)).toEqual([]);
    });

    it("keeps the first user_info of a member and returns it with the snapshot", async () => {
      const channel = uniqueName("presence-info");
      await subscribe(channel, newSocketId(), member("carol", { n: 1 }));
      const again = await subscribe(channel, newSocketId(), member("carol", { n: 2 }));
      expect(again.ok && again.members).toEqual([member("carol", { n: 1 })]);
    });

    it("refuses a new member beyond maxMembers but lets an existing member add sockets", async () => {
      const channel = uniqueName("presence-full");
      expect((await subscribe(channel, newSocketId(), member("u1"), 2)).ok).toBe(true);
      expect((await subscribe(channel, newSocketId(), member("u2"), 2)).ok).toBe(true);
      expect(await subscribe(channel, newSocketId(), member("u3"), 2)).toEqual({ ok: false, code: "over_capacity" });
      expect((await subscribe(channel, newSocketId(), member("u1"), 2)).ok).toBe(true);
      expect(await presence.readChannel(channel)).toEqual({ subscriptionCount: 3, userCount: 2 });
    });

    it("announces a member exactly once under 40 concurrent subscribes and unsubscribes", async () => {
      const channel = uniqueName("presence-race");
      const sockets = Array.from({ length: 40 }, newSocketId);
      const added = await Promise.all(sockets.map((socketId) => subscribe(channel, socketId, member("dave"))));
      expect(added.filter((outcome) => outcome.ok && outcome.memberAdded)).toHaveLength(1);
      expect(await presence.readChannel(channel)).toEqual({ subscriptionCount: 40, userCount: 1 });
      const removed = await Promise.all(sockets.map((socketId) => unsubscribe(channel, socketId)));
      expect(removed.filter((outcome) => outcome.memberRemoved === "dave")).toHaveLength(1);
      expect(removed.every((outcome) => outcome.wasSubscribed)).toBe(true);
      expect(await presence.readChannel(channel)).toEqual({ subscriptionCount: 0, userCount: 0 });
    });

    it("removes a subscription only for the node that owns it", async () => {
      const channel = uniqueName("presence-owner");
      const socketId = newSocketId();
      await subscribe(channel, socketId, member("erin"));
      expect(await unsubscribe(channel, socketId, uniqueName("node"))).toEqual({ wasSubscribed: false });
      expect(await presence.listMembers(channel)).toEqual(["erin"]);
      expect(await unsubscribe(channel, socketId)).toEqual({ wasSubscribed: true, memberRemoved: "erin" });
    });

    describe("node leases", () => {
      it("refuses subscribes under a node that never registered", async () => {
        const outcome = await presence.subscribe({
          channel: uniqueName("news"),
          socketId: newSocketId(),
          nodeId: uniqueName("ghost"),
          maxMembers: 100,
        });
        expect(outcome).toEqual({ ok: false, code: "node_expired" });
      });

      it("lets a lapsed node's subscriptions be found and removed, announcing each member once", async () => {
        const dead = uniqueName("node");
        await presence.registerNode(dead, 30_000);
        expect(await presence.renewNode(dead, 30_000)).toBe(true);
        const channel = uniqueName("presence-dead");
        const [x1, x2, survivor] = [newSocketId(), newSocketId(), newSocketId()];
        for (const socketId of [x1, x2]) {
          const outcome = await presence.subscribe({
            channel,
            socketId,
            nodeId: dead,
            member: member("frank"),
            maxMembers: 100,
          });
          expect(outcome.ok).toBe(true);
        }
        await subscribe(channel, survivor, member("grace"));
        expect(await presence.removeNode(dead, { onlyIfExpired: true })).toBe(false);
        expect(await presence.listExpiredNodes()).not.toContain(dead);

        // Past the dead node's lease, well inside the suite node's (60 s).
        await timePasses(31_000);
        expect(await presence.listExpiredNodes()).toContain(dead);
        expect(await presence.listExpiredNodes()).not.toContain(nodeId);
        expect(await presence.renewNode(dead, 30_000)).toBe(false);
        expect(await presence.subscribe({ channel, socketId: newSocketId(), nodeId: dead, maxMembers: 100 })).toEqual({
          ok: false,
          code: "node_expired",
        });

        const owned = await presence.listNodeSubscriptions(dead, 100);
        expect(owned.sort((a, b) => a.socketId.localeCompare(b.socketId))).toEqual(
          [x1, x2].sort().map((socketId) => ({ channel, socketId })),
        );
        expect(await presence.removeNode(dead, { onlyIfExpired: true })).toBe(false);
        const outcomes = await Promise.all(
          [...owned, ...owned].map(({ socketId }) => presence.unsubscribe({ channel, socketId, nodeId: dead })),
        );
        expect(outcomes.filter((outcome) => outcome.memberRemoved === "frank")).toHaveLength(1);
        expect(outcomes.filter((outcome) => outcome.wasSubscribed)).toHaveLength(2);
        expect(await presence.listNodeSubscriptions(dead, 100)).toEqual([]);
        expect(await presence.listMembers(channel)).toEqual(["grace"]);
        expect(await presence.removeNode(dead, { onlyIfExpired: true })).toBe(true);
        expect(await presence.listExpiredNodes()).not.toContain(dead);
      });

      it("forgets a live node only when asked to and only once it owns nothing", async () => {
        const live = uniqueName("node");
        await presence.registerNode(live, 60_000);
        expect(await presence.removeNode(live, { onlyIfExpired: true })).toBe(false);
        const channel = uniqueName("news");
        const socketId = newSocketId();
        await presence.subscribe({ channel, socketId, nodeId: live, maxMembers: 100 });
        expect(await presence.removeNode(live, { onlyIfExpired: false })).toBe(false);
        await presence.unsubscribe({ channel, socketId, nodeId: live });
        expect(await presence.removeNode(live, { onlyIfExpired: false })).toBe(true);
        expect(await presence.renewNode(live, 60_000)).toBe(false);
      });
    });
  });
}

const clock = createManualClock();
describePresenceStore(
  "memory presence store",
  async () => createMemoryStores({ now: clock.now }),
  async (ms) => clock.advance(ms),
);

if (redisUnavailableReason && isCI) {
  describe("redis presence store", () => {
    it("needs a Redis server in CI", () => {
      throw new Error(`Redis must answer in CI: ${redisUnavailableReason}`);
    });
  });
} else {
  describe.skipIf(redisUnavailableReason !== null)("redis", () => {
    afterAll(async () => {
      const client = await createRedisClient(REDIS_URL);
      try {
        let cursor = "0";
        do {
          const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
          cursor = next;
          if (keys.length > 0) await client.unlink(...keys);
        } while (cursor !== "0");
      } finally {
        await client.quit();
      }
    });

    describePresenceStore(
      "redis presence store",
      () => createRedisStores({ url: REDIS_URL, prefix }),
      async (ms) => {
        // The `nodes` sorted set holds each node's lease end (presence-redis.ts).
        const client = await createRedisClient(REDIS_URL);
        try {
          const leases = await client.zrange(`${prefix}nodes`, 0, -1, "WITHSCORES");
          for (let i = 0; i < leases.length; i += 2) {
            await client.zadd(`${prefix}nodes`, Number(leases[i + 1]) - ms, leases[i]!);
          }
        } finally {
          await client.quit();
        }
      },
    );

    it("keeps everything under the prefix and deletes a channel's keys when it empties", async () => {
      const client = await createRedisClient(REDIS_URL);
      const ownPrefix = `${prefix}own:`;
      const stores = await createRedisStores({ url: REDIS_URL, prefix: ownPrefix });
      try {
        const nodeId = uniqueName("node");
        await stores.presence.registerNode(nodeId, 60_000);
        const channel = uniqueName("presence-keys");
        const socketId = newSocketId();
        await stores.presence.subscribe({ channel, socketId, nodeId, member: member("hal"), maxMembers: 100 });
        const keys = await client.keys(`${ownPrefix}*`);
        expect(keys.sort()).toEqual(
          [
            `${ownPrefix}ch:conns:${channel}`,
            `${ownPrefix}ch:info:${channel}`,
            `${ownPrefix}ch:list`,
            `${ownPrefix}ch:subs:${channel}`,
            `${ownPrefix}epoch`,
            `${ownPrefix}node:${nodeId}`,
            `${ownPrefix}nodes`,
          ].sort(),
        );
        await stores.presence.unsubscribe({ channel, socketId, nodeId });
        await stores.presence.removeNode(nodeId, { onlyIfExpired: false });
        // The stores' epoch (redis.ts) stays: it is one key per prefix, not per channel.
        expect(await client.keys(`${ownPrefix}*`)).toEqual([`${ownPrefix}epoch`]);
      } finally {
        await stores.close();
        await client.quit();
      }
    });
  });
}
