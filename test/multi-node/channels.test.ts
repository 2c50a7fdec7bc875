/**
 * Channels across app nodes that share Redis (docs/protocol.md section 2; ARCHITECTURE.md:
 * "presence ... sit[s] behind an interface in server/store/"):
 * - two nodes in this process: presence added/removed exactly once per user although
 *   the user's sockets and the watchers are spread over both, REST triggers and queries
 *   on either node reaching and describing sockets on the other, terminate_connections
 *   reaching the other node;
 * - a node in its own process, killed with SIGKILL (no clean-up at all): its members are
 *   removed, announced once, within CHANNELS_NODE_TIMEOUT_SECONDS plus a third of it
 *   (one sweep interval), and a user who still has a socket elsewhere stays a member.
 *
 * All nodes share APP_ID/APP_KEY/APP_SECRET and one REDIS_PREFIX made for this run,
 * whose keys are deleted at the end (test/support/deployment.ts, without PostgreSQL:
 * each node keeps its own SQLite). Skipped with a printed reason locally when Redis is
 * down, a failure in CI.
 */
import type Pusher from "pusher";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { generateAppCredentials } from "../../server/channels/credentials";
import { signChannelAuth } from "../../server/channels/signing";
import { createTestDeployment, requireDeploymentServices } from "../support/deployment";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { closeAndSettle, connectChannelClient, createPusherSdk, triggerProbe } from "../channels/helpers";
import type { ChannelClient } from "../channels/helpers";

const NODE_TIMEOUT_SECONDS = 2;
const hasRedis = await requireDeploymentServices({ postgres: false });

describe.skipIf(!hasRedis)("channels on several nodes sharing Redis", () => {
  const credentials = generateAppCredentials();
  const deployment = createTestDeployment({ label: "channels", postgres: false });
  const shared = {
    ...deployment.redisEnv,
    APP_ID: credentials.appId,
    APP_KEY: credentials.key,
    APP_SECRET: credentials.secret,
    CHANNELS_NODE_TIMEOUT_SECONDS: String(NODE_TIMEOUT_SECONDS),
  };
  let node1: TestApp;
  let node2: TestApp;
  let sdk1: Pusher;
  let sdk2: Pusher;
  const opened: ChannelClient[] = [];

  async function connect(baseUrl: string) {
    const client = await connectChannelClient(baseUrl);
    opened.push(client);
    return client;
  }

  /** A socket on `baseUrl` subscribed to a presence channel as `userId`. */
  async function joinAs(baseUrl: string, channel: string, userId: string) {
    const client = await connect(baseUrl);
    const channelData = JSON.stringify({ user_id: userId, user_info: { node: baseUrl } });
    const auth = signChannelAuth(credentials, client.socketId, channel, channelData);
    const ack = await client.subscribe(channel, { auth, channel_data: channelData });
    if (!ack.ok) throw new Error(`subscribe failed: ${JSON.stringify(ack)}`);
    return client;
  }

  const usersOf = async (sdk: Pusher, channel: string) =>
    ((await (await sdk.get({ path: `/channels/${channel}/users` })).json()) as { users: Array<{ id: string }> }).users
      .map((user) => user.id)
      .sort();

  beforeAll(async () => {
    await deployment.setUp();
    // In this process, each with its own data folder; only the killed node is a process.
    // allSettled: if one node fails to start, the other is still assigned, so afterAll stops it.
    const [started1, started2] = await Promise.allSettled([startTestApp(shared), startTestApp(shared)]);
    if (started1.status === "fulfilled") node1 = started1.value;
    if (started2.status === "fulfilled") node2 = started2.value;
    for (const started of [started1, started2]) if (started.status === "rejected") throw started.reason;
    sdk1 = createPusherSdk(node1.baseUrl, credentials);
    sdk2 = createPusherSdk(node2.baseUrl, credentials);
  });
  const closeOpened = () => {
    for (const client of opened.splice(0)) client.close();
  };
  afterEach(closeOpened);
  afterAll(() => deployment.cleanup(closeOpened, () => Promise.all([node1?.stop(), node2?.stop()])));

  it("announces a user once although their sockets and the watchers are on both nodes", async () => {
    const channel = `presence-spread-${Date.now()}`;
    const [watcher1, watcher2] = [
      await joinAs(node1.baseUrl, channel, "w1"),
      await joinAs(node2.baseUrl, channel, "w2"),
    ];
    const a = await joinAs(node1.baseUrl, channel, "spread");
    const b = await joinAs(node2.baseUrl, channel, "spread");
    const c = await joinAs(node2.baseUrl, channel, "spread");
    for (const watcher of [watcher1, watcher2]) await watcher.waitForPresence(channel, "added:spread");
    expect(await usersOf(sdk1, channel)).toEqual(["spread", "w1", "w2"]);
    expect(await usersOf(sdk2, channel)).toEqual(["spread", "w1", "w2"]);

    // Two of the three connections go. Once each node has cleaned up after its own, a probe
    // from each node reaches every watcher after any member_removed that node sent (the
    // Redis stream keeps one node's emits in order).
    await closeAndSettle(node1, a.socket, a.socketId);
    await closeAndSettle(node2, c.socket, c.socketId);
    for (const watcher of [watcher1, watcher2]) {
      await triggerProbe(sdk1, watcher, channel);
      await triggerProbe(sdk2, watcher, channel);
    }
    expect(watcher1.presence(channel)).not.toContain("removed:spread");
    expect(watcher2.presence(channel)).not.toContain("removed:spread");
    expect(await usersOf(sdk2, channel)).toContain("spread");

    b.close();
    for (const watcher of [watcher1, watcher2]) await watcher.waitForPresence(channel, "removed:spread");
    for (const watcher of [watcher1, watcher2]) {
      await triggerProbe(sdk2, watcher, channel);
      expect(watcher.presence(channel).filter((entry) => entry.endsWith(":spread"))).toEqual([
        "added:spread",
        "removed:spread",
      ]);
    }
    expect(await usersOf(sdk1, channel)).toEqual(["w1", "w2"]);
  });

  it("delivers a trigger on one node to sockets on the other, leaving out socket_id", async () => {
    const [on1, on2] = [await connect(node1.baseUrl), await connect(node2.baseUrl)];
    await on1.subscribe("cross");
    await on2.subscribe("cross");
    await sdk2.trigger("cross", "ping", { from: 2 }, { socket_id: on2.socketId });
    await on1.waitForEvent("cross", "ping");
    await triggerProbe(sdk1, on2, "cross");
    expect(on2.events("cross").filter((e) => e.event === "ping")).toEqual([]);
    expect(await (await sdk1.get({ path: "/channels/cross", params: { info: "subscription_count" } })).json()).toEqual({
      occupied: true,
      subscription_count: 2,
    });
  });

  it("terminates a user's connections on the other node", async () => {
    const channel = `presence-terminate-${Date.now()}`;
    const watcher = await joinAs(node1.baseUrl, channel, "watcher");
    const victim = await joinAs(node2.baseUrl, channel, "victim");
    const closed = new Promise<void>((resolve) => victim.socket.once("disconnect", () => resolve()));
    await sdk1.terminateUserConnections("victim");
    await closed;
    await watcher.waitForPresence(channel, "removed:victim");
    expect(await usersOf(sdk2, channel)).toEqual(["watcher"]);
  });

  it("removes a killed node's members within the lease bound, once, keeping users still connected elsewhere", async () => {
    // Its own address as PUBLIC_URL, the deployment's DATA_DIR (no other node uses it).
    const doomed = await deployment.startNode("doomed node", shared);

    const channel = `presence-killed-${Date.now()}`;
    const watcher = await joinAs(node1.baseUrl, channel, "watcher");
    await joinAs(doomed.url, channel, "gone");
    await joinAs(doomed.url, channel, "gone");
    await joinAs(doomed.url, channel, "stays");
    await joinAs(node2.baseUrl, channel, "stays");
    await watcher.waitForPresence(channel, "added:gone");
    await watcher.waitForPresence(channel, "added:stays");
    expect(await usersOf(sdk1, channel)).toEqual(["gone", "stays", "watcher"]);

    const killedAt = Date.now();
    doomed.child.kill("SIGKILL");
    await doomed.exited;
    // The lease lapses at most NODE_TIMEOUT after its last renewal; a sweep runs every third of it.
    // Plus slack for a loaded machine, where a tick can start seconds late.
    const boundMs = NODE_TIMEOUT_SECONDS * 1000 * (4 / 3) + 4_000;
    await watcher.waitForPresence(channel, "removed:gone", boundMs + 2_000);
    const tookMs = Date.now() - killedAt;
    expect(tookMs).toBeLessThan(boundMs);

    await triggerProbe(sdk2, watcher, channel);
    expect(watcher.presence(channel).filter((entry) => entry.endsWith(":gone"))).toEqual([
      "added:gone",
      "removed:gone",
    ]);
    expect(watcher.presence(channel)).not.toContain("removed:stays");
    expect(await usersOf(sdk1, channel)).toEqual(["stays", "watcher"]);
    expect(await usersOf(sdk2, channel)).toEqual(["stays", "watcher"]);
    expect(await node1.ctx.stores.presence.listExpiredNodes()).toEqual([]);
    // Starting a node takes most of this test's time, 20 s and more on a loaded machine.
  }, 120_000);
});
