/**
 * Names chosen from outside never meet an object's prototype (issue 11 items 5 and 8):
 * presence members and channels called `__proto__`, `constructor` or `toString` are listed
 * like any other, with the memory stores and with Redis; channel_data is limited in UTF-8
 * bytes, not characters.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { signChannelAuth, type AppCredentials } from "../../server/channels/signing";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { TEST_REDIS_URL, requireService } from "../support/services";
import { callRest, connectChannelClient, expectAckError, type ChannelClient } from "../channels/helpers";

const hasRedis = await requireService("Redis", Number(new URL(TEST_REDIS_URL).port || 6379));
const NAMES = ["__proto__", "constructor", "toString", "hasOwnProperty"];

describe.each([
  ["memory stores", {}],
  ...(hasRedis ? [["redis stores", { REDIS_URL: TEST_REDIS_URL }] as const] : []),
] as Array<[string, Record<string, string>]>)("names from outside (%s)", (_name, env) => {
  let app: TestApp;
  let credentials: AppCredentials;
  const opened: ChannelClient[] = [];

  beforeAll(async () => {
    app = await startTestApp(env);
    credentials = app.ctx.channelCredentials;
  });
  afterEach(() => {
    for (const client of opened.splice(0)) client.close();
  });
  afterAll(() => app?.stop());

  async function subscribe(channel: string, channelData?: string) {
    const client = await connectChannelClient(app.baseUrl);
    opened.push(client);
    const auth = channel.startsWith("presence-")
      ? signChannelAuth(credentials, client.socketId, channel, channelData)
      : undefined;
    return { client, ack: await client.subscribe(channel, { auth, channel_data: channelData }) };
  }

  it("lists presence members named like Object.prototype's properties in the snapshot", async () => {
    const channel = "presence-names";
    for (const userId of NAMES) {
      const { ack } = await subscribe(channel, JSON.stringify({ user_id: userId, user_info: { name: userId } }));
      expect(ack.ok).toBe(true);
    }
    const { ack } = await subscribe(channel, JSON.stringify({ user_id: "watcher" }));
    if (!ack.ok || !ack.presence) throw new Error(`no presence snapshot: ${JSON.stringify(ack)}`);
    expect([...ack.presence.ids].sort()).toEqual([...NAMES, "watcher"].sort());
    expect(ack.presence.count).toBe(NAMES.length + 1);
    for (const userId of NAMES) {
      expect(Object.hasOwn(ack.presence.hash, userId), userId).toBe(true);
      expect(ack.presence.hash[userId]).toEqual({ name: userId });
    }
  });

  it("lists channels named like Object.prototype's properties over the REST API", async () => {
    for (const channel of NAMES) expect((await subscribe(channel)).ack.ok).toBe(true);
    const listed = await callRest(app.baseUrl, credentials, {
      method: "GET",
      path: `/apps/${credentials.appId}/channels`,
    });
    expect(listed.status).toBe(200);
    const { channels } = JSON.parse(listed.text) as { channels: Record<string, unknown> };
    for (const channel of NAMES) expect(Object.hasOwn(channels, channel), channel).toBe(true);

    const triggered = await callRest(app.baseUrl, credentials, {
      method: "POST",
      path: `/apps/${credentials.appId}/events`,
      body: JSON.stringify({ name: "x", data: "{}", channels: NAMES, info: "subscription_count" }),
    });
    expect(triggered.status).toBe(200);
    const info = JSON.parse(triggered.text) as { channels: Record<string, { subscription_count: number }> };
    for (const channel of NAMES) expect(info.channels[channel], channel).toEqual({ subscription_count: 1 });
    expect(Object.keys(info.channels).sort()).toEqual([...NAMES].sort());
  });

  it("limits channel_data to 1,024 UTF-8 bytes, not characters", async () => {
    const channel = "presence-bytes";
    // 3 bytes per character: well under 1,024 characters, well over 1,024 bytes.
    const wide = JSON.stringify({ user_id: "wide", user_info: { name: "€".repeat(900) } });
    expect(wide.length).toBeLessThan(1024);
    expect(Buffer.byteLength(wide)).toBeGreaterThan(2700);
    expectAckError((await subscribe(channel, wide)).ack, "invalid_request");
    const fits = JSON.stringify({ user_id: "fits", user_info: { name: "€".repeat(300) } });
    expect(Buffer.byteLength(fits)).toBeLessThanOrEqual(1024);
    expect((await subscribe(channel, fits)).ack.ok).toBe(true);
  });
});
