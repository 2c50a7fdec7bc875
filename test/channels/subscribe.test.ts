/**
 * `channel:subscribe` / `channel:unsubscribe` (docs/protocol.md section 2) against a real
 * app: auth checked against the socket's own id in constant time, every bad input acked
 * with an error and the socket NOT joined (an event triggered to the channel never
 * reaches it: a probe event sent after it on a public channel arrives, this one not),
 * the pusher SDK's signatures accepted, the subscribe rate limit, and a server that
 * keeps answering afterwards.
 */
import type Pusher from "pusher";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signChannelAuth } from "../../server/channels/signing";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { emitAck, request } from "../protocol/helpers";
import { connectChannelClient, createPusherSdk, expectAckError, triggerProbe, type ChannelClient } from "./helpers";

let app: TestApp;
let limited: TestApp;
let sdk: Pusher;
const opened: ChannelClient[] = [];

async function connect(target: TestApp = app) {
  const client = await connectChannelClient(target.baseUrl);
  opened.push(client);
  return client;
}

beforeAll(async () => {
  [app, limited] = await Promise.all([
    startTestApp(),
    startTestApp({ RATE_LIMIT_SUBSCRIBE_PER_SOCKET: "20", PRESENCE_MAX_MEMBERS: "2" }),
  ]);
  sdk = createPusherSdk(app.baseUrl, app.ctx.channelCredentials);
});
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});
afterAll(async () => {
  await Promise.all([app?.stop(), limited?.stop()]);
});

/** The channel never reached the client: a probe sent after the event arrives, the event does not. */
async function expectNotJoined(client: ChannelClient, channel: string) {
  const probe = `probe-${channel}`;
  expect((await client.subscribe(probe)).ok).toBe(true);
  await sdk.trigger(channel, "secret", { leaked: true });
  await triggerProbe(sdk, client, probe);
  expect(client.events(channel)).toEqual([]);
  await client.unsubscribe(probe);
}

describe("channel:subscribe", () => {
  it("subscribes to a public channel without auth and delivers events to it", async () => {
    const client = await connect();
    expect(await client.subscribe("news")).toEqual({ ok: true, channel: "news" });
    await sdk.trigger("news", "headline", { title: "hello" });
    const push = await client.waitForEvent("news", "headline");
    expect(push.payload).toEqual({ channel: "news", event: "headline", data: '{"title":"hello"}' });
  });

  it("accepts the pusher SDK's authorizeChannel output for private and presence channels", async () => {
    const client = await connect();
    const priv = sdk.authorizeChannel(client.socketId, "private-sdk");
    expect(await client.subscribe("private-sdk", { auth: priv.auth })).toEqual({ ok: true, channel: "private-sdk" });
    const pres = sdk.authorizeChannel(client.socketId, "presence-sdk", { user_id: "42", user_info: { name: "Ann" } });
    expect(await client.subscribe("presence-sdk", { auth: pres.auth, channel_data: pres.channel_data })).toEqual({
      ok: true,
      channel: "presence-sdk",
      presence: { ids: ["42"], hash: { "42": { name: "Ann" } }, count: 1 },
    });
    await sdk.trigger(["private-sdk", "presence-sdk"], "hi", "plain text");
    await client.waitForEvent("private-sdk", "hi");
    await client.waitForEvent("presence-sdk", "hi");
    expect(client.events("private-sdk")).toEqual([{ channel: "private-sdk", event: "hi", data: "plain text" }]);
  });

  it("counts a numeric presence user_id as its decimal text", async () => {
    const client = await connect();
    const channelData = JSON.stringify({ user_id: 7 });
    const auth = signChannelAuth(app.ctx.channelCredentials, client.socketId, "presence-numeric", channelData);
    expect(await client.subscribe("presence-numeric", { auth, channel_data: channelData })).toMatchObject({
      ok: true,
      presence: { ids: ["7"], hash: { "7": null }, count: 1 },
    });
  });

  describe("refuses and does not join", () => {
    const credentials = () => app.ctx.channelCredentials;

    it("a private channel without auth", async () => {
      const client = await connect();
      expectAckError(await client.subscribe("private-a"), "invalid_auth");
      await expectNotJoined(client, "private-a");
    });

    it("a signature made with another secret", async () => {
      const client = await connect();
      const forged = signChannelAuth(
        { ...credentials(), secret: "not-the-secret-at-all" },
        client.socketId,
        "private-b",
      );
      expectAckError(await client.subscribe("private-b", { auth: forged }), "invalid_auth");
      await expectNotJoined(client, "private-b");
    });

    it("a signature for another socket id, or for another channel", async () => {
      const client = await connect();
      const [a, b] = client.socketId.split(".");
      const otherSocket = `${a}.${Number(b) + 1}`;
      const forOther = signChannelAuth(credentials(), otherSocket, "private-c");
      expectAckError(await client.subscribe("private-c", { auth: forOther }), "invalid_auth");
      const forOtherChannel = signChannelAuth(credentials(), client.socketId, "private-d");
      expectAckError(await client.subscribe("private-c", { auth: forOtherChannel }), "invalid_auth");
      await expectNotJoined(client, "private-c");
    });

    it("garbage auth strings", async () => {
      const client = await connect();
      for (const auth of ["", ":", "key:", `${credentials().key}:zz`, "x".repeat(300)]) {
        expectAckError(await client.subscribe("private-e", { auth }), "invalid_auth");
      }
      expectAckError(await client.subscribe("private-e", { auth: "x".repeat(301) }), "invalid_request");
      await expectNotJoined(client, "private-e");
    });

    it("presence with channel_data other than what was signed, or none", async () => {
      const client = await connect();
      const signed = JSON.stringify({ user_id: "mallory", user_info: { role: "user" } });
      const auth = signChannelAuth(credentials(), client.socketId, "presence-f", signed);
      const changed = JSON.stringify({ user_id: "mallory", user_info: { role: "admin" } });
      expectAckError(await client.subscribe("presence-f", { auth, channel_data: changed }), "invalid_auth");
      expectAckError(await client.subscribe("presence-f", { auth, channel_data: `${signed} ` }), "invalid_auth");
      expectAckError(await client.subscribe("presence-f", { auth }), "invalid_auth");
      const privateAuth = signChannelAuth(credentials(), client.socketId, "presence-f");
      expectAckError(await client.subscribe("presence-f", { auth: privateAuth }), "invalid_auth");
      await expectNotJoined(client, "presence-f");
      expect(await app.ctx.stores.presence.listMembers("presence-f")).toEqual([]);
    });

    it("presence channel_data that is signed but is no user object", async () => {
      const client = await connect();
      for (const channelData of ["not json", "[]", '{"user_info":{}}', '{"user_id":""}', '{"user_id":1.5}', "null"]) {
        const auth = signChannelAuth(credentials(), client.socketId, "presence-g", channelData);
        expectAckError(
          await client.subscribe("presence-g", { auth, channel_data: channelData }),
          "invalid_channel_data",
        );
      }
      const longId = JSON.stringify({ user_id: "u".repeat(129) });
      const auth = signChannelAuth(credentials(), client.socketId, "presence-g", longId);
      expectAckError(await client.subscribe("presence-g", { auth, channel_data: longId }), "invalid_channel_data");
      const tooBig = JSON.stringify({ user_id: "u", user_info: { pad: "p".repeat(1024) } });
      const bigAuth = signChannelAuth(credentials(), client.socketId, "presence-g", tooBig);
      expectAckError(await client.subscribe("presence-g", { auth: bigAuth, channel_data: tooBig }), "invalid_request");
      await expectNotJoined(client, "presence-g");
    });

    it("malformed payloads and channel names", async () => {
      const client = await connect();
      for (const payload of [undefined, null, "news", 42, [], { channel: 1 }, { channel: "news", extra: true }]) {
        expectAckError(await emitAck(client.socket, "channel:subscribe", payload), "invalid_request");
      }
      for (const channel of ["", "bad name", "#server-to-user-1", `n${"x".repeat(164)}`, "ü"]) {
        expectAckError(await client.subscribe(channel), "invalid_channel");
      }
      // No ack function: nothing is answered and nothing breaks.
      client.socket.emit("channel:subscribe", { channel: "news" });
      expect(await client.subscribe("still-alive")).toEqual({ ok: true, channel: "still-alive" });
    });
  });

  it("unsubscribes: no more events, ack ok, twice is fine", async () => {
    const client = await connect();
    await client.subscribe("weather");
    expect(await client.unsubscribe("weather")).toEqual({ ok: true });
    expect(await client.unsubscribe("weather")).toEqual({ ok: true });
    await expectNotJoined(client, "weather");
    expectAckError(await emitAck(client.socket, "channel:unsubscribe", { channel: "bad name" }), "invalid_channel");
    expectAckError(await emitAck(client.socket, "channel:unsubscribe", "weather"), "invalid_request");
    client.socket.emit("channel:unsubscribe", { channel: "weather" });
    expect((await client.subscribe("weather")).ok).toBe(true);
  });

  it("rate limits a flood of subscribes per socket, and other sockets are unaffected", async () => {
    const client = await connect(limited);
    const acks = await Promise.all(Array.from({ length: 30 }, (_, i) => client.subscribe(`flood-${i}`)));
    expect(acks.filter((ack) => ack.ok)).toHaveLength(20);
    for (const ack of acks.filter((a) => !a.ok)) expectAckError(ack, "rate_limited");
    const other = await connect(limited);
    expect((await other.subscribe("flood-x")).ok).toBe(true);
    expect((await limited.ctx.stores.presence.readChannel("flood-0")).subscriptionCount).toBe(1);
  });

  it("refuses a new member of a full presence channel (PRESENCE_MAX_MEMBERS) but not a known one", async () => {
    const creds = limited.ctx.channelCredentials;
    const join = async (userId: string) => {
      const client = await connect(limited);
      const channelData = JSON.stringify({ user_id: userId });
      const auth = signChannelAuth(creds, client.socketId, "presence-full", channelData);
      return client.subscribe("presence-full", { auth, channel_data: channelData });
    };
    expect((await join("u1")).ok).toBe(true);
    expect((await join("u2")).ok).toBe(true);
    expectAckError(await join("u3"), "over_capacity");
    expect((await join("u1")).ok).toBe(true);
    expect((await limited.ctx.stores.presence.listMembers("presence-full")).sort()).toEqual(["u1", "u2"]);
  });

  it("is still healthy after all of that", async () => {
    expect((await request(`${app.baseUrl}/api/health`)).status).toBe(200);
  });
});
