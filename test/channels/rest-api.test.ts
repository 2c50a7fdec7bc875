/**
 * The Pusher HTTP API on `/apps/{appId}/...` (docs/protocol.md section 2) against a real app:
 * the official `pusher` npm SDK triggers, batch-triggers, queries channels and users and
 * terminates connections; hand-signed requests get exactly one thing wrong each (key,
 * signature, timestamp, body_md5, app id, limits) and get Pusher's status with a
 * docs/protocol.md error body, while nothing is delivered and the server keeps answering.
 */
import type Pusher from "pusher";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signChannelAuth, type AppCredentials } from "../../server/channels/signing";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { expectError, request } from "../protocol/helpers";
import { callRest, connectChannelClient, createPusherSdk, triggerProbe, type ChannelClient } from "./helpers";

let app: TestApp;
let sdk: Pusher;
let credentials: AppCredentials;
const opened: ChannelClient[] = [];

async function connect() {
  const client = await connectChannelClient(app.baseUrl);
  opened.push(client);
  return client;
}

/** A socket subscribed to `channel`, as presence member `userId` when it is a presence channel. */
async function subscribed(channel: string, userId = "user-1") {
  const client = await connect();
  const channelData = channel.startsWith("presence-") ? JSON.stringify({ user_id: userId }) : undefined;
  const auth = channel.startsWith("p")
    ? signChannelAuth(credentials, client.socketId, channel, channelData)
    : undefined;
  const ack = await client.subscribe(channel, { auth, channel_data: channelData });
  expect(ack.ok).toBe(true);
  return client;
}

const json = async (response: Promise<{ json(): Promise<unknown> }>) => (await response).json();
const eventsPath = () => `/apps/${credentials.appId}/events`;
const trigger = (body: unknown, extra: { timestamp?: number; signBody?: string } = {}) =>
  callRest(app.baseUrl, credentials, { method: "POST", path: eventsPath(), body: JSON.stringify(body), ...extra });

beforeAll(async () => {
  app = await startTestApp();
  credentials = app.ctx.channelCredentials;
  sdk = createPusherSdk(app.baseUrl, credentials);
});
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});
afterAll(async () => {
  await app?.stop();
});

describe("with the official pusher SDK", () => {
  it("triggers to one and to several channels; a socket on two gets it once per channel", async () => {
    const both = await subscribed("alpha");
    await both.subscribe("beta");
    const response = await sdk.trigger(["alpha", "beta"], "greet", { hello: "world" });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({});
    await both.waitForEvent("alpha", "greet");
    await both.waitForEvent("beta", "greet");
    await triggerProbe(sdk, both, "alpha");
    expect(both.events().filter((e) => e.event === "greet")).toEqual([
      { channel: "alpha", event: "greet", data: '{"hello":"world"}' },
      { channel: "beta", event: "greet", data: '{"hello":"world"}' },
    ]);
  });

  it("leaves out the connection named by socket_id", async () => {
    const [sender, other] = [await subscribed("chat"), await subscribed("chat")];
    await sdk.trigger("chat", "said", "hi", { socket_id: sender.socketId });
    await other.waitForEvent("chat", "said");
    await triggerProbe(sdk, sender, "chat");
    expect(sender.events("chat").filter((e) => e.event === "said")).toEqual([]);
  });

  it("returns channel attributes when the trigger asks with info", async () => {
    await subscribed("presence-info", "u1");
    await subscribed("presence-info", "u1");
    await subscribed("public-info");
    const body = await json(
      sdk.trigger(["presence-info", "public-info"], "e", {}, { info: "user_count,subscription_count" }),
    );
    expect(body).toEqual({
      channels: {
        "presence-info": { user_count: 1, subscription_count: 2 },
        "public-info": { subscription_count: 1 },
      },
    });
  });

  it("batch-triggers, in order, with info per event", async () => {
    const client = await subscribed("batch-a");
    await client.subscribe("batch-b");
    const response = await sdk.triggerBatch([
      { channel: "batch-a", name: "one", data: { n: 1 } },
      { channel: "batch-b", name: "two", data: "2" },
      { channel: "batch-a", name: "three", data: { n: 3 }, socket_id: client.socketId },
    ]);
    expect(await response.json()).toEqual({});
    await client.waitForEvent("batch-b", "two");
    await triggerProbe(sdk, client, "batch-a");
    expect(client.events().map((e) => `${e.channel}:${e.event}:${e.data}`)).toEqual(
      expect.arrayContaining(['batch-a:one:{"n":1}', "batch-b:two:2"]),
    );
    expect(client.events().some((e) => e.event === "three")).toBe(false);
    const withInfo = await json(
      sdk.triggerBatch([
        { channel: "batch-a", name: "x", data: {}, info: "subscription_count" },
        { channel: "batch-b", name: "y", data: {} },
      ]),
    );
    expect(withInfo).toEqual({ batch: [{ subscription_count: 1 }, {}] });
  });

  it("lists occupied channels, by prefix, with user_count for presence", async () => {
    await subscribed("presence-list-1", "a");
    await subscribed("presence-list-1", "b");
    await subscribed("presence-list-2", "a");
    await subscribed("private-list-1");
    const all = (await json(sdk.get({ path: "/channels" }))) as { channels: Record<string, unknown> };
    expect(all.channels).toMatchObject({ "presence-list-1": {}, "presence-list-2": {}, "private-list-1": {} });
    expect(
      await json(sdk.get({ path: "/channels", params: { filter_by_prefix: "presence-list-", info: "user_count" } })),
    ).toEqual({
      channels: { "presence-list-1": { user_count: 2 }, "presence-list-2": { user_count: 1 } },
    });
    expect(await json(sdk.get({ path: "/channels", params: { filter_by_prefix: "nothing-here" } }))).toEqual({
      channels: {},
    });
  });

  it("reads one channel: occupied, and the counts asked for", async () => {
    await subscribed("private-one");
    expect(await json(sdk.get({ path: "/channels/private-one" }))).toEqual({ occupied: true });
    expect(await json(sdk.get({ path: "/channels/private-one", params: { info: "subscription_count" } }))).toEqual({
      occupied: true,
      subscription_count: 1,
    });
    expect(await json(sdk.get({ path: "/channels/presence-empty", params: { info: "user_count" } }))).toEqual({
      occupied: false,
      user_count: 0,
    });
  });

  it("lists a presence channel's users", async () => {
    await subscribed("presence-users", "7");
    await subscribed("presence-users", "8");
    await subscribed("presence-users", "7");
    const body = (await json(sdk.get({ path: "/channels/presence-users/users" }))) as { users: Array<{ id: string }> };
    expect(body.users.map((u) => u.id).sort()).toEqual(["7", "8"]);
  });

  it("terminates every connection of a user (presence user_id or private-user-<id>), and only theirs", async () => {
    const asMember = await subscribed("presence-term", "victim");
    const asOwner = await subscribed("private-user-victim");
    const bystander = await subscribed("presence-term", "bystander");
    const closed = (client: ChannelClient) =>
      new Promise<void>((resolve) => client.socket.once("disconnect", () => resolve()));
    const both = Promise.all([closed(asMember), closed(asOwner)]);
    expect((await sdk.terminateUserConnections("victim")).status).toBe(200);
    await both;
    await bystander.waitForPresence("presence-term", "removed:victim");
    expect(bystander.socket.connected).toBe(true);
    const users = (await json(sdk.get({ path: "/channels/presence-term/users" }))) as { users: Array<{ id: string }> };
    expect(users.users).toEqual([{ id: "bystander" }]);
  });

  it("surfaces errors as the SDK's RequestError with the status", async () => {
    await expect(sdk.get({ path: "/channels/public-thing/users" })).rejects.toMatchObject({ status: 400 });
  });
});

describe("refuses, delivering nothing", () => {
  let watcher: ChannelClient;
  beforeAll(async () => {
    watcher = await connectChannelClient(app.baseUrl);
    await watcher.subscribe("guarded");
  });
  afterAll(() => watcher.close());

  const event = (overrides: Record<string, unknown> = {}) => ({
    name: "bad",
    channels: ["guarded"],
    data: "{}",
    ...overrides,
  });

  afterEach(async () => {
    await triggerProbe(sdk, watcher, "guarded");
    expect(watcher.events("guarded").filter((e) => e.event === "bad")).toEqual([]);
  });

  it("an unknown app id (404)", async () => {
    const res = await callRest(app.baseUrl, credentials, {
      method: "POST",
      path: `/apps/${credentials.appId}0/events`,
      body: JSON.stringify(event()),
    });
    expectError(res, 404, "app_not_found");
  });

  it("a signature made with another secret, or another key (401)", async () => {
    const body = JSON.stringify(event());
    for (const wrong of [
      { ...credentials, secret: "x".repeat(64) },
      { ...credentials, key: "another-key" },
    ]) {
      const res = await callRest(app.baseUrl, wrong, { method: "POST", path: eventsPath(), body });
      expectError(res, 401, "invalid_auth");
    }
  });

  it("a request changed after signing, or not signed at all (401)", async () => {
    const tampered = await callRest(app.baseUrl, credentials, {
      method: "POST",
      path: eventsPath(),
      body: JSON.stringify(event()),
      extraQuery: "&info=user_count",
    });
    expectError(tampered, 401, "invalid_auth");
    const unsigned = await request(`${app.baseUrl}${eventsPath()}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(event()),
    });
    expectError(unsigned, 401, "invalid_auth");
  });

  it("a stale or future auth_timestamp (401)", async () => {
    // Well past the 600 s either way: a loaded machine may answer seconds after `now` was read
    // (the exact boundary is pinned against a fixed clock in server/channels/signing.test.ts).
    const now = Math.floor(Date.now() / 1000);
    for (const timestamp of [now - 700, now + 700, now - 86_400]) {
      expectError(await trigger(event(), { timestamp }), 401, "invalid_timestamp");
    }
  });

  it("a wrong or missing body_md5 (401)", async () => {
    expectError(
      await trigger(event(), { signBody: JSON.stringify(event({ name: "other" })) }),
      401,
      "body_md5_mismatch",
    );
    const noMd5 = await callRest(app.baseUrl, credentials, {
      method: "POST",
      path: eventsPath(),
      body: JSON.stringify(event()),
      signBody: "",
    });
    expectError(noMd5, 401, "body_md5_mismatch");
  });

  it("data over 10 KB (413), while exactly 10 KB passes", async () => {
    expectError(await trigger(event({ data: "x".repeat(10 * 1024 + 1) })), 413, "data_too_large");
    expectError(await trigger(event({ data: "é".repeat(5 * 1024 + 1) })), 413, "data_too_large");
    expect((await trigger({ name: "fits", channels: ["elsewhere"], data: "x".repeat(10 * 1024) })).status).toBe(200);
  });

  it("more than 100 channels (400), while 100 pass", async () => {
    const channels = (n: number) => Array.from({ length: n }, (_, i) => `many-${i}`);
    expectError(await trigger(event({ channels: [...channels(100), "guarded"] })), 400, "too_many_channels");
    expect((await trigger({ name: "ok", channels: channels(100), data: "{}" })).status).toBe(200);
  });

  it("names over 200 characters or outside the alphabet (400)", async () => {
    expectError(await trigger(event({ name: "n".repeat(201) })), 400, "invalid_request");
    expectError(await trigger(event({ channels: ["guarded", "c".repeat(201)] })), 400, "invalid_channel");
    expectError(await trigger(event({ channels: ["guarded", "bad name"] })), 400, "invalid_channel");
    expectError(await trigger(event({ channels: [] })), 400, "invalid_request");
    expect((await trigger({ name: "n".repeat(200), channels: ["c".repeat(200)], data: "{}" })).status).toBe(200);
  });

  it("bodies that are not a valid event (400)", async () => {
    expectError(await trigger(event({ channel: "guarded" })), 400, "invalid_request");
    expectError(await trigger(event({ data: { not: "a string" } })), 400, "invalid_request");
    expectError(await trigger(event({ socket_id: "not-a-socket" })), 400, "invalid_socket_id");
    expectError(await trigger(event({ info: "bogus" })), 400, "invalid_request");
    const notJson = await callRest(app.baseUrl, credentials, { method: "POST", path: eventsPath(), body: "{nope" });
    expectError(notJson, 400, "invalid_request");
  });

  it("a body over the API's size limit (413)", async () => {
    const huge = JSON.stringify({
      batch: Array.from({ length: 40 }, () => ({ name: "bad", channel: "guarded", data: "x".repeat(9_000) })),
    });
    const res = await callRest(app.baseUrl, credentials, {
      method: "POST",
      path: `/apps/${credentials.appId}/batch_events`,
      body: huge,
    });
    expectError(res, 413, "payload_too_large");
  });

  it("batches over 10 events (400) or with one bad event (nothing of it is sent)", async () => {
    const batchPath = `/apps/${credentials.appId}/batch_events`;
    const item = { name: "bad", channel: "guarded", data: "{}" };
    const eleven = await callRest(app.baseUrl, credentials, {
      method: "POST",
      path: batchPath,
      body: JSON.stringify({ batch: Array.from({ length: 11 }, () => item) }),
    });
    expectError(eleven, 400, "batch_too_large");
    const oneTooBig = await callRest(app.baseUrl, credentials, {
      method: "POST",
      path: batchPath,
      body: JSON.stringify({ batch: [item, { ...item, data: "x".repeat(10_241) }] }),
    });
    expectError(oneTooBig, 413, "data_too_large");
  });

  it("presence-only attributes and users on other channels (400), unknown paths (404)", async () => {
    const get = (path: string, params?: Record<string, string>) =>
      callRest(app.baseUrl, credentials, { method: "GET", path: `/apps/${credentials.appId}${path}`, params });
    expectError(await get("/channels", { info: "user_count" }), 400, "presence_only");
    expectError(await get("/channels", { filter_by_prefix: "private-", info: "user_count" }), 400, "presence_only");
    expectError(await get("/channels", { info: "bogus" }), 400, "invalid_request");
    expectError(await get("/channels/guarded", { info: "user_count" }), 400, "presence_only");
    expectError(await get("/channels/guarded/users"), 400, "presence_only");
    expectError(await get("/channels/bad!name"), 400, "invalid_channel");
    expectError(await get(`/channels/${"c".repeat(201)}`), 400, "invalid_channel");
    expectError(await get("/nothing"), 404, "not_found");
  });
});

it("is still healthy, with no presence left behind", async () => {
  for (const client of opened.splice(0)) client.close();
  expect((await request(`${app.baseUrl}/api/health`)).status).toBe(200);
  const deadline = Date.now() + 5_000;
  let channels = await app.ctx.stores.presence.listChannels("presence-");
  while (channels.length > 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    channels = await app.ctx.stores.presence.listChannels("presence-");
  }
  expect(channels).toEqual([]);
});
