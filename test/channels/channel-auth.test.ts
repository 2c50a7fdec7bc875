/**
 * `POST /api/channel-auth` (docs/protocol.md section 2) against a real app: the token, the
 * policy, both body formats, every bad input, and interop: the answer equals what the
 * official `pusher` SDK computes with the same key and secret, and `channel:subscribe`
 * accepts it on that socket only.
 */
import type Pusher from "pusher";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { expectError, request } from "../protocol/helpers";
import {
  connectChannelClient,
  createPusherSdk,
  expectAckError,
  postChannelAuth,
  signInUser,
  type ChannelClient,
} from "./helpers";

const SHOP = "https://shop.example";
let app: TestApp;
let sdk: Pusher;
let alice: Awaited<ReturnType<typeof signInUser>>;
let bob: Awaited<ReturnType<typeof signInUser>>;
const opened: ChannelClient[] = [];

async function connect() {
  const client = await connectChannelClient(app.baseUrl);
  opened.push(client);
  return client;
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

beforeAll(async () => {
  app = await startTestApp({ ALLOWED_ORIGINS: `${SHOP}` });
  sdk = createPusherSdk(app.baseUrl, app.ctx.channelCredentials);
  [alice, bob] = await Promise.all([signInUser(app.baseUrl), signInUser(app.baseUrl)]);
});
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});
afterAll(async () => {
  await app?.stop();
});

describe("POST /api/channel-auth", () => {
  it("signs a private channel exactly as the pusher SDK does, for JSON and form bodies", async () => {
    const client = await connect();
    const body = { socket_id: client.socketId, channel_name: "private-team" };
    const expected = sdk.authorizeChannel(client.socketId, "private-team");
    for (const as of ["json", "form"] as const) {
      const res = await postChannelAuth(app.baseUrl, body, bearer(alice.accessToken), as);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ auth: expected.auth });
      expect(res.headers.get("cache-control")).toBe("no-store");
    }
    expect((await client.subscribe("private-team", { auth: expected.auth })).ok).toBe(true);
  });

  it("signs a presence channel with channel_data {user_id, user_info: {address}}, as the SDK does", async () => {
    const client = await connect();
    const res = await postChannelAuth(
      app.baseUrl,
      { socket_id: client.socketId, channel_name: "presence-lobby" },
      bearer(alice.accessToken),
    );
    expect(res.status).toBe(200);
    const member = { user_id: alice.userId, user_info: { address: alice.address } };
    expect(res.body).toEqual(sdk.authorizeChannel(client.socketId, "presence-lobby", member));
    expect(JSON.parse(res.body.channel_data!)).toEqual(member);

    const ack = await client.subscribe("presence-lobby", { auth: res.body.auth, channel_data: res.body.channel_data });
    expect(ack).toEqual({
      ok: true,
      channel: "presence-lobby",
      presence: { ids: [alice.userId], hash: { [alice.userId]: { address: alice.address } }, count: 1 },
    });
  });

  it("gives private-user-<id> to that user and refuses it to anyone else (403)", async () => {
    const client = await connect();
    const own = await postChannelAuth(
      app.baseUrl,
      { socket_id: client.socketId, channel_name: `private-user-${alice.userId}` },
      bearer(alice.accessToken),
    );
    expect(own.status).toBe(200);
    expect((await client.subscribe(`private-user-${alice.userId}`, { auth: own.body.auth })).ok).toBe(true);

    const theirs = await postChannelAuth(
      app.baseUrl,
      { socket_id: client.socketId, channel_name: `private-user-${bob.userId}` },
      bearer(alice.accessToken),
    );
    expectError(theirs, 403, "forbidden");
  });

  it("answers a signature that only the socket it names can use", async () => {
    const [mine, other] = [await connect(), await connect()];
    const res = await postChannelAuth(
      app.baseUrl,
      { socket_id: mine.socketId, channel_name: "private-only-mine" },
      bearer(alice.accessToken),
    );
    expectAckError(await other.subscribe("private-only-mine", { auth: res.body.auth }), "invalid_auth");
    expect((await mine.subscribe("private-only-mine", { auth: res.body.auth })).ok).toBe(true);
  });

  it("is 401 without a valid Bearer token, before looking at the body", async () => {
    const body = { socket_id: "1.2", channel_name: "private-x" };
    const attempts: Array<Record<string, string>> = [
      {},
      { authorization: "Bearer nope" },
      { authorization: `Basic ${alice.accessToken}` },
    ];
    for (const headers of attempts) {
      const res = await postChannelAuth(app.baseUrl, body, headers);
      expectError(res, 401, "invalid_token");
      expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    }
    expectError(await postChannelAuth(app.baseUrl, "not json", {}), 401, "invalid_token");
  });

  it.each([
    ["1234", "invalid_socket_id"],
    ["abc.1", "invalid_socket_id"],
    ["1.2.3", "invalid_socket_id"],
    [" 1.2", "invalid_socket_id"],
    [`${"1".repeat(40)}.${"2".repeat(40)}`, "invalid_socket_id"],
  ])("is 400 for the socket id %j", async (socketId, code) => {
    const res = await postChannelAuth(
      app.baseUrl,
      { socket_id: socketId, channel_name: "private-x" },
      bearer(alice.accessToken),
    );
    expectError(res, 400, code);
  });

  it.each(["private-bad name", "", "#server-to-user-1", "private-ü", `private-${"x".repeat(157)}`, "a/b"])(
    "is 400 for the channel name %j",
    async (channel) => {
      const res = await postChannelAuth(
        app.baseUrl,
        { socket_id: "1.2", channel_name: channel },
        bearer(alice.accessToken),
      );
      expectError(res, 400, "invalid_channel");
    },
  );

  it("is 400 for a body that is neither JSON nor a form, or lacks a field", async () => {
    const headers = bearer(alice.accessToken);
    expectError(await postChannelAuth(app.baseUrl, "{", headers), 400, "invalid_request");
    expectError(await postChannelAuth(app.baseUrl, { socket_id: "1.2" }, headers), 400, "invalid_request");
    expectError(await postChannelAuth(app.baseUrl, { socket_id: "1.2" }, headers, "form"), 400, "invalid_request");
    const text = await request(`${app.baseUrl}/api/channel-auth`, {
      method: "POST",
      headers: { ...headers, "content-type": "text/plain" },
      body: "socket_id=1.2&channel_name=private-x",
    });
    expectError(text, 400, "invalid_request");
  });

  it("is 413 for a body over 16 KiB, declared or chunked, and closes the connection", async () => {
    const client = await connect();
    const body = JSON.stringify({ socket_id: client.socketId, channel_name: "private-team", pad: "x".repeat(17_000) });
    const declared = await request(`${app.baseUrl}/api/channel-auth`, {
      method: "POST",
      headers: { ...bearer(alice.accessToken), "content-type": "application/json" },
      body,
    });
    expectError(declared, 413, "payload_too_large");
    const chunked = await request(`${app.baseUrl}/api/channel-auth`, {
      method: "POST",
      headers: { ...bearer(alice.accessToken), "content-type": "application/json" },
      body: new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode(body));
          controller.close();
        },
      }),
      duplex: "half",
    } as RequestInit);
    expectError(chunked, 413, "payload_too_large");
    expect(chunked.headers.get("connection")).toBe("close");
  });

  it("accepts 164-character names and ignores pusher-js's extra form fields", async () => {
    const channel = `private-${"x".repeat(156)}`;
    const res = await postChannelAuth(
      app.baseUrl,
      { socket_id: "1.2", channel_name: channel, extra: "ignored" },
      bearer(alice.accessToken),
      "form",
    );
    expect(res.status).toBe(200);
    expect(res.body.auth).toBe(sdk.authorizeChannel("1.2", channel).auth);
  });

  it("serves the allowed origins only (browser-facing)", async () => {
    const body = { socket_id: "1.2", channel_name: "private-x" };
    const allowed = await postChannelAuth(app.baseUrl, body, { ...bearer(alice.accessToken), origin: SHOP });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(SHOP);
    const refused = await postChannelAuth(app.baseUrl, body, {
      ...bearer(alice.accessToken),
      origin: "https://evil.example",
    });
    expectError(refused, 403, "origin_not_allowed");
    const preflight = await request(`${app.baseUrl}/api/channel-auth`, {
      method: "OPTIONS",
      headers: { origin: SHOP, "access-control-request-method": "POST" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/Authorization/);
  });
});
