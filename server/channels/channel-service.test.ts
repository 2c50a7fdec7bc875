/**
 * The channel service on the memory store, playing several nodes on one store: presence
 * announced once per user, per-socket ordering, a dead node swept, a lapsed lease replaced,
 * failed clean-ups retried. Lease tests move the store's clock (no sleeps) and keep the
 * default 60 s node timeout, so the services' own 20 s ticks never run during a test: the
 * test runs each tick itself.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createManualClock } from "../../test/support/manual-clock";
import { createLogger } from "../logger";
import { createMemoryStores } from "../store/memory";
import type { PresenceStore, Stores } from "../store/types";
import { createChannelService, type ChannelService, type PresenceNotice } from "./channel-service";

const log = createLogger("silent");
const member = (userId: string) => ({ userId, userInfo: JSON.stringify({ address: `0x${userId}` }) });

interface Node {
  service: ChannelService;
  notices: PresenceNotice[];
  presenceLost: string[];
}

const opened: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  for (const item of opened.splice(0).reverse()) await item.close();
});

async function openStores(now?: () => number): Promise<Stores> {
  const stores = createMemoryStores(now ? { now } : {});
  opened.push(stores);
  return stores;
}

async function startNode(store: PresenceStore, overrides: { maxChannelsPerSocket?: number } = {}) {
  const node: Node = { notices: [], presenceLost: [], service: undefined as unknown as ChannelService };
  node.service = createChannelService({
    store,
    log,
    nodeTimeoutMs: 60_000,
    maxPresenceMembers: 100,
    maxChannelsPerSocket: overrides.maxChannelsPerSocket ?? 100,
    notify: (notice) => node.notices.push(notice),
    onPresenceLost: (socketIds) => {
      node.presenceLost.push(...socketIds);
    },
  });
  await node.service.start();
  opened.push(node.service);
  return node;
}

const added = (nodes: Node[], channel: string) =>
  nodes.flatMap((n) => n.notices).filter((x) => x.type === "member_added" && x.channel === channel);
const removed = (nodes: Node[], channel: string) =>
  nodes.flatMap((n) => n.notices).filter((x) => x.type === "member_removed" && x.channel === channel);

describe("channel service", () => {
  it("announces a user once across sockets on two nodes, added first and removed last", async () => {
    const { presence } = await openStores();
    const [a, b] = [await startNode(presence), await startNode(presence)];
    const channel = "presence-room";

    const first = await a.service.subscribe({ socketId: "1.1", channel, member: member("u1") });
    expect(first).toEqual({
      ok: true,
      presence: { ids: ["u1"], hash: { u1: { address: "0xu1" } }, count: 1 },
    });
    expect(added([a, b], channel)).toEqual([
      { type: "member_added", channel, userId: "u1", userInfo: { address: "0xu1" }, exceptSocketId: "1.1" },
    ]);
    await b.service.subscribe({ socketId: "2.1", channel, member: member("u1") });
    await b.service.subscribe({ socketId: "2.2", channel, member: member("u2") });
    expect(added([a, b], channel).map((x) => x.userId)).toEqual(["u1", "u2"]);

    await a.service.removeSocket("1.1");
    expect(removed([a, b], channel)).toEqual([]);
    await b.service.unsubscribe("2.1", channel);
    expect(removed([a, b], channel)).toEqual([{ type: "member_removed", channel, userId: "u1" }]);
    await b.service.removeSocket("2.2");
    expect(removed([a, b], channel).map((x) => x.userId)).toEqual(["u1", "u2"]);
    expect(await presence.readChannel(channel)).toEqual({ subscriptionCount: 0, userCount: 0 });
  });

  it("runs one socket's steps in order: a disconnect right after a subscribe leaves nothing", async () => {
    const { presence } = await openStores();
    const node = await startNode(presence);
    const channel = "presence-order";
    const subscribing = node.service.subscribe({ socketId: "3.1", channel, member: member("u3") });
    const leaving = node.service.removeSocket("3.1");
    await Promise.all([subscribing, leaving]);
    expect(await presence.readChannel(channel)).toEqual({ subscriptionCount: 0, userCount: 0 });
    expect(node.notices.map((x) => x.type)).toEqual(["member_added", "member_removed"]);
  });

  it("caps the channels of one socket", async () => {
    const { presence } = await openStores();
    const node = await startNode(presence, { maxChannelsPerSocket: 2 });
    expect((await node.service.subscribe({ socketId: "4.1", channel: "a" })).ok).toBe(true);
    expect((await node.service.subscribe({ socketId: "4.1", channel: "b" })).ok).toBe(true);
    expect((await node.service.subscribe({ socketId: "4.1", channel: "b" })).ok).toBe(true);
    expect(await node.service.subscribe({ socketId: "4.1", channel: "c" })).toEqual({
      ok: false,
      code: "too_many_channels",
    });
    await node.service.unsubscribe("4.1", "a");
    expect((await node.service.subscribe({ socketId: "4.1", channel: "c" })).ok).toBe(true);
  });

  it("sweeps a node that stopped renewing its lease, announcing only users with no socket left", async () => {
    const clock = createManualClock();
    const { presence } = await openStores(clock.now);
    let isDeadAlive = true;
    // The dead node's process is gone: it neither renews nor cleans up.
    const deadStore: PresenceStore = {
      ...presence,
      renewNode: (nodeId, leaseMs) => (isDeadAlive ? presence.renewNode(nodeId, leaseMs) : Promise.resolve(true)),
      listExpiredNodes: () => (isDeadAlive ? presence.listExpiredNodes() : Promise.resolve([])),
    };
    const dead = await startNode(deadStore);
    const live = await startNode(presence);
    const channel = "presence-sweep";
    await dead.service.subscribe({ socketId: "5.1", channel, member: member("gone") });
    await dead.service.subscribe({ socketId: "5.2", channel, member: member("both") });
    await live.service.subscribe({ socketId: "6.1", channel, member: member("both") });
    isDeadAlive = false;

    // Inside the dead node's lease (60 s from its start): nothing is swept yet.
    clock.advance(59_000);
    await live.service.runTick();
    expect(removed([live], channel)).toEqual([]);
    // Past it (the live node renewed at the last tick).
    clock.advance(2_000);
    await live.service.runTick();
    expect(removed([live], channel)).toEqual([{ type: "member_removed", channel, userId: "gone" }]);
    expect(await presence.listMembers(channel)).toEqual(["both"]);
    expect(await presence.listExpiredNodes()).toEqual([]);
  });

  it("replaces a lapsed lease with a new node id: private subscriptions stored again, presence sockets dropped", async () => {
    const clock = createManualClock();
    const { presence } = await openStores(clock.now);
    let isStoreAway = false;
    const unreliable: PresenceStore = {
      ...presence,
      renewNode: (nodeId, leaseMs) =>
        isStoreAway ? Promise.reject(new Error("store away")) : presence.renewNode(nodeId, leaseMs),
    };
    const node = await startNode(unreliable);
    const before = node.service.nodeId;
    await node.service.subscribe({ socketId: "7.1", channel: "presence-lapse", member: member("u7") });
    await node.service.subscribe({ socketId: "7.3", channel: "private-kept" });
    // The store is away for longer than the lease: the renewals in between fail.
    isStoreAway = true;
    await node.service.runTick();
    expect(node.service.nodeId).toBe(before);
    clock.advance(61_000);
    isStoreAway = false;
    await node.service.runTick();
    expect(node.presenceLost).toEqual(["7.1"]);
    expect(node.service.nodeId).not.toBe(before);
    // The private subscription lives on under the new id, through the sweep of the old one.
    await node.service.runTick();
    expect(await presence.readChannel("private-kept")).toEqual({ subscriptionCount: 1, userCount: 0 });
    // Its own sweep removed what was stored under the lapsed id.
    expect(await presence.listMembers("presence-lapse")).toEqual([]);
    // The socket's disconnect clean-up is harmless now, and new subscribes work under the new id.
    await node.service.removeSocket("7.1");
    expect(
      (await node.service.subscribe({ socketId: "7.2", channel: "presence-lapse", member: member("u7") })).ok,
    ).toBe(true);
  });

  it("retries a clean-up that failed until it succeeds", async () => {
    const { presence } = await openStores();
    let failures = 1;
    const flaky: PresenceStore = {
      ...presence,
      unsubscribe: (input) => {
        if (failures > 0) {
          failures -= 1;
          return Promise.reject(new Error("store away"));
        }
        return presence.unsubscribe(input);
      },
    };
    const node = await startNode(flaky);
    await node.service.subscribe({ socketId: "8.1", channel: "presence-flaky", member: member("u8") });
    await node.service.removeSocket("8.1");
    expect(await presence.listMembers("presence-flaky")).toEqual(["u8"]);
    await node.service.runTick();
    expect(await presence.listMembers("presence-flaky")).toEqual([]);
    expect(removed([node], "presence-flaky")).toEqual([
      { type: "member_removed", channel: "presence-flaky", userId: "u8" },
    ]);
  });

  it("removes its sockets' subscriptions and forgets itself on close", async () => {
    const { presence } = await openStores();
    const node = await startNode(presence);
    await node.service.subscribe({ socketId: "9.1", channel: "presence-close", member: member("u9") });
    await node.service.close();
    expect(await presence.listMembers("presence-close")).toEqual([]);
    expect(await presence.renewNode(node.service.nodeId, 1_000)).toBe(false);
    expect(await node.service.subscribe({ socketId: "9.2", channel: "x" })).toEqual({ ok: false, code: "unavailable" });
  });
});
