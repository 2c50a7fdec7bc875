/**
 * Presence on one node, with the memory stores and with Redis (docs/protocol.md section 2:
 * "A user with several connections is one member: added on the first, removed after
 * the last leaves"): the ack snapshot, member_added / member_removed exactly once per
 * user, never to the joining socket itself, clean-up on disconnect and on unsubscribe,
 * and the REST API's view of the same channel. Signed the way browsers get it: the
 * QR login, then POST /api/channel-auth.
 */
import type Pusher from "pusher";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { TEST_REDIS_URL, requireService } from "../support/services";
import {
  connectChannelClient,
  createPusherSdk,
  postChannelAuth,
  signInUser,
  triggerProbe,
  type ChannelClient,
} from "./helpers";

const hasRedis = await requireService("Redis", Number(new URL(TEST_REDIS_URL).port || 6379));

describe.each([
  ["memory stores", {}],
  ...(hasRedis ? [["redis stores", { REDIS_URL: TEST_REDIS_URL }] as const] : []),
] as Array<[string, Record<string, string>]>)("presence on one node (%s)", (_name, env) => {
  let app: TestApp;
  let sdk: Pusher;
  let alice: Awaited<ReturnType<typeof signInUser>>;
  let bob: Awaited<ReturnType<typeof signInUser>>;
  const opened: ChannelClient[] = [];

  beforeAll(async () => {
    app = await startTestApp(env);
    sdk = createPusherSdk(app.baseUrl, app.ctx.channelCredentials);
    [alice, bob] = await Promise.all([signInUser(app.baseUrl), signInUser(app.baseUrl)]);
  });
  afterEach(() => {
    for (const client of opened.splice(0)) client.close();
  });
  afterAll(async () => {
    await app?.stop();
  });

  /** A new socket of `user`, subscribed to `channel` with auth from /api/channel-auth. */
  async function join(user: typeof alice, channel: string) {
    const client = await connectChannelClient(app.baseUrl);
    opened.push(client);
    const res = await postChannelAuth(
      app.baseUrl,
      { socket_id: client.socketId, channel_name: channel },
      { authorization: `Bearer ${user.accessToken}` },
    );
    expect(res.status).toBe(200);
    const ack = await client.subscribe(channel, { auth: res.body.auth, channel_data: res.body.channel_data });
    if (!ack.ok) throw new Error(`subscribe failed: ${JSON.stringify(ack)}`);
    return { client, ack };
  }

  const users = async (channel: string) =>
    ((await (await sdk.get({ path: `/channels/${channel}/users` })).json()) as { users: Array<{ id: string }> }).users
      .map((u) => u.id)
      .sort();

  it("adds a user once over three connections and removes them after the last leaves", async () => {
    const channel = `presence-once-${Date.now()}`;
    const watcher = await join(bob, channel);
    const [a1, a2, a3] = [await join(alice, channel), await join(alice, channel), await join(alice, channel)];
    expect(a1.ack.presence).toEqual({
      ids: expect.arrayContaining([alice.userId, bob.userId]),
      hash: { [alice.userId]: { address: alice.address }, [bob.userId]: { address: bob.address } },
      count: 2,
    });
    expect(a3.ack.presence?.count).toBe(2);

    await watcher.client.waitForPresence(channel, `added:${alice.userId}`);
    // Alice's own sockets never hear of her own arrival; a1 hears nothing about alice at all.
    a1.client.close();
    await a2.client.unsubscribe(channel);
    await triggerProbe(sdk, watcher.client, channel);
    expect(watcher.client.presence(channel)).toEqual([`added:${alice.userId}`]);
    expect(await users(channel)).toEqual([alice.userId, bob.userId].sort());

    a3.client.close();
    await watcher.client.waitForPresence(channel, `removed:${alice.userId}`);
    await triggerProbe(sdk, watcher.client, channel);
    expect(watcher.client.presence(channel)).toEqual([`added:${alice.userId}`, `removed:${alice.userId}`]);
    expect(a2.client.presence(channel)).toEqual([]);
    expect(await users(channel)).toEqual([bob.userId]);
  });

  it("tells a joining socket about members already there only through its ack", async () => {
    const channel = `presence-snapshot-${Date.now()}`;
    const first = await join(alice, channel);
    const second = await join(bob, channel);
    expect(second.ack.presence?.ids.sort()).toEqual([alice.userId, bob.userId].sort());
    await first.client.waitForPresence(channel, `added:${bob.userId}`);
    await triggerProbe(sdk, second.client, channel);
    expect(second.client.presence(channel)).toEqual([]);
  });

  it("reports the channel through the REST API: occupied, user_count, subscription_count", async () => {
    const channel = `presence-counts-${Date.now()}`;
    await join(alice, channel);
    await join(alice, channel);
    await join(bob, channel);
    const state = await (
      await sdk.get({ path: `/channels/${channel}`, params: { info: "user_count,subscription_count" } })
    ).json();
    expect(state).toEqual({ occupied: true, user_count: 2, subscription_count: 3 });
    const listed = await (
      await sdk.get({ path: "/channels", params: { filter_by_prefix: channel, info: "user_count" } })
    ).json();
    expect(listed).toEqual({ channels: { [channel]: { user_count: 2 } } });
  });

  it("leaves no member behind when sockets drop in the middle of subscribing", async () => {
    const channel = `presence-drop-${Date.now()}`;
    const clients = await Promise.all(Array.from({ length: 10 }, () => connectChannelClient(app.baseUrl)));
    const auths = await Promise.all(
      clients.map((client) =>
        postChannelAuth(
          app.baseUrl,
          { socket_id: client.socketId, channel_name: channel },
          { authorization: `Bearer ${alice.accessToken}` },
        ),
      ),
    );
    for (const [i, client] of clients.entries()) {
      client.socket.emit(
        "channel:subscribe",
        { channel, auth: auths[i]!.body.auth, channel_data: auths[i]!.body.channel_data },
        () => {},
      );
      client.close();
    }
    const deadline = Date.now() + 10_000;
    while ((await users(channel)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(await users(channel)).toEqual([]);
    expect(await app.ctx.stores.presence.readChannel(channel)).toEqual({ subscriptionCount: 0, userCount: 0 });
  });
});
