/**
 * lib/sdk/node/realtime-server.ts against a real app: triggers reach subscribed sockets,
 * batches, channel listings, presence users, terminating a user's connections, channel
 * auth the server accepts, and the server's errors as RealtimeApiError.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RealtimeApiError, RealtimeServer } from "../../lib/sdk/node";
import type { AppCredentials } from "../../server/channels/signing";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { connectChannelClient, type ChannelClient } from "./helpers";

let app: TestApp;
let credentials: AppCredentials;
let sdk: RealtimeServer;
const opened: ChannelClient[] = [];

/** A socket subscribed to `channel` with auth from the SDK (as `userId` on presence channels). */
async function subscribed(channel: string, userId = "user-1") {
  const client = await connectChannelClient(app.baseUrl);
  opened.push(client);
  const isPresence = channel.startsWith("presence-");
  const signed =
    isPresence || channel.startsWith("private-")
      ? sdk.authenticate(client.socketId, channel, isPresence ? { user_id: userId, user_info: { n: 1 } } : undefined)
      : {};
  const ack = await client.subscribe(channel, signed);
  expect(ack.ok).toBe(true);
  return client;
}

beforeAll(async () => {
  app = await startTestApp();
  credentials = app.ctx.channelCredentials;
  sdk = new RealtimeServer(credentials.appId, credentials.secret, { appKey: credentials.key, endpoint: app.baseUrl });
});
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});
afterAll(async () => {
  sdk?.close();
  await app?.stop();
});

describe("RealtimeServer against the app", () => {
  it("triggers to a subscribed socket, JSON-encoding objects, leaving out socketId", async () => {
    const [sender, other] = [await subscribed("private-sdk"), await subscribed("private-sdk")];
    expect(await sdk.trigger("private-sdk", "said", { hi: "there" }, { socketId: sender.socketId })).toEqual({});
    await other.waitForEvent("private-sdk", "said");
    expect(other.events("private-sdk")).toEqual([{ channel: "private-sdk", event: "said", data: '{"hi":"there"}' }]);
    await sdk.trigger(["private-sdk", "elsewhere"], "probe", "plain");
    await sender.waitForEvent("private-sdk", "probe");
    expect(sender.events("private-sdk").map((e) => e.event)).toEqual(["probe"]);
    expect(await sdk.trigger("private-sdk", "counted", {}, { info: "subscription_count" })).toEqual({
      channels: { "private-sdk": { subscription_count: 2 } },
    });
  });

  it("batch-triggers", async () => {
    const client = await subscribed("sdk-batch");
    await sdk.triggerBatch([
      { channel: "sdk-batch", name: "one", data: { n: 1 } },
      { channel: "sdk-batch", name: "two", data: "2" },
    ]);
    await client.waitForEvent("sdk-batch", "two");
    expect(client.events("sdk-batch").map((e) => `${e.event}:${e.data}`)).toEqual(['one:{"n":1}', "two:2"]);
  });

  it("lists channels, reads one, and lists a presence channel's users", async () => {
    await subscribed("presence-sdk", "7");
    await subscribed("presence-sdk", "8");
    await subscribed("presence-sdk", "7");
    expect(await sdk.channels({ filterByPrefix: "presence-sdk", info: "user_count" })).toEqual({
      channels: { "presence-sdk": { user_count: 2 } },
    });
    expect((await sdk.channels()).channels).toHaveProperty("presence-sdk");
    expect(await sdk.channel("presence-sdk", { info: "user_count,subscription_count" })).toEqual({
      occupied: true,
      user_count: 2,
      subscription_count: 3,
    });
    const { users } = await sdk.channelUsers("presence-sdk");
    expect(users.map((u) => u.id).sort()).toEqual(["7", "8"]);
  });

  it("terminates a user's connections and only theirs", async () => {
    const victim = await subscribed("presence-sdk-term", "victim");
    const bystander = await subscribed("presence-sdk-term", "bystander");
    const closed = new Promise<void>((resolve) => victim.socket.once("disconnect", () => resolve()));
    await sdk.terminateUserConnections("victim");
    await closed;
    await bystander.waitForPresence("presence-sdk-term", "removed:victim");
    expect(bystander.socket.connected).toBe(true);
  });

  it("maps the server's errors to RealtimeApiError", async () => {
    const error = await sdk.channelUsers("public-thing").catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RealtimeApiError);
    expect(error).toMatchObject({ status: 400, code: "presence_only" });
    await expect(sdk.channels({ info: "user_count" })).rejects.toMatchObject({ status: 400, code: "presence_only" });
    await expect(sdk.trigger("a", "e", "x".repeat(10_241))).rejects.toMatchObject({
      status: 413,
      code: "data_too_large",
    });
    const wrongSecret = new RealtimeServer(credentials.appId, "wrong-secret", {
      appKey: credentials.key,
      endpoint: app.baseUrl,
    });
    await expect(wrongSecret.channels()).rejects.toMatchObject({ status: 401, code: "invalid_auth" });
    const wrongApp = new RealtimeServer("nope", credentials.secret, { appKey: credentials.key, endpoint: app.baseUrl });
    await expect(wrongApp.channels()).rejects.toMatchObject({ status: 404, code: "app_not_found" });
    const skewed = new RealtimeServer(credentials.appId, credentials.secret, {
      appKey: credentials.key,
      endpoint: app.baseUrl,
      now: () => Date.now() - 3_600_000,
    });
    await expect(skewed.channels()).rejects.toMatchObject({ status: 401, code: "invalid_timestamp" });
  });
});
