/**
 * Signing against Pusher's published vectors (library auth reference: "auth signatures"
 * and "HTTP API reference, worked authentication example"), the GET vectors of the
 * pusher-http-go test suite, and the official `pusher` npm SDK's own output.
 */
import Pusher from "pusher";
import { describe, expect, it } from "vitest";
import {
  buildStringToSign,
  md5Hex,
  signChannelAuth,
  signRestRequest,
  verifyBodyMd5,
  verifyChannelAuth,
  verifyRestQuery,
  type AppCredentials,
} from "./signing";

const DOCS: AppCredentials = { appId: "3", key: "278d425bdf160c739803", secret: "7ad3773142a6692b25b8" };
const GO_SUITE: AppCredentials = { appId: "102015", key: "d41a439c438a100756f5", secret: "4bf35003e819bb138249" };

const DOCS_BODY = '{"name":"foo","channels":["project-3"],"data":"{\\"some\\":\\"data\\"}"}';
const DOCS_TIMESTAMP = 1353088179;
const DOCS_QUERY =
  "auth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f" +
  "&auth_signature=da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c";

const params = (query: string) => new Map(new URLSearchParams(query));

describe("channel auth", () => {
  it("matches Pusher's private channel vector", () => {
    expect(signChannelAuth(DOCS, "1234.1234", "private-foobar")).toBe(
      "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4",
    );
  });

  it("matches Pusher's presence channel vector, signing channel_data as the exact string", () => {
    const channelData = '{"user_id":10,"user_info":{"name":"Mr. Pusher"}}';
    expect(signChannelAuth(DOCS, "1234.1234", "presence-foobar", channelData)).toBe(
      "278d425bdf160c739803:afaed3695da2ffd16931f457e338e6c9f2921fa133ce7dac49f529792be6304c",
    );
  });

  it("equals the official pusher SDK's authorizeChannel for private and presence channels", () => {
    const sdk = new Pusher({ ...DOCS, host: "127.0.0.1" });
    expect(signChannelAuth(DOCS, "5.67", "private-user-abc")).toBe(
      sdk.authorizeChannel("5.67", "private-user-abc").auth,
    );
    const member = { user_id: "u1", user_info: { address: "0xAbC", 'quote"': "ü" } };
    const fromSdk = sdk.authorizeChannel("5.67", "presence-room", member);
    expect(fromSdk.channel_data).toBe(JSON.stringify(member));
    expect(signChannelAuth(DOCS, "5.67", "presence-room", JSON.stringify(member))).toBe(fromSdk.auth);
  });

  it("verifies only the exact socket, channel and channel_data", () => {
    const channelData = '{"user_id":"u1"}';
    const auth = signChannelAuth(DOCS, "1.2", "presence-x", channelData);
    expect(verifyChannelAuth(DOCS, { socketId: "1.2", channel: "presence-x", channelData, auth })).toBe(true);
    expect(verifyChannelAuth(DOCS, { socketId: "1.3", channel: "presence-x", channelData, auth })).toBe(false);
    expect(verifyChannelAuth(DOCS, { socketId: "1.2", channel: "presence-y", channelData, auth })).toBe(false);
    expect(
      verifyChannelAuth(DOCS, { socketId: "1.2", channel: "presence-x", channelData: '{"user_id": "u1"}', auth }),
    ).toBe(false);
    expect(verifyChannelAuth(DOCS, { socketId: "1.2", channel: "presence-x", auth })).toBe(false);
    expect(verifyChannelAuth(DOCS, { socketId: "1.2", channel: "presence-x", channelData, auth: undefined })).toBe(
      false,
    );
    expect(
      verifyChannelAuth(DOCS, { socketId: "1.2", channel: "presence-x", channelData, auth: auth.slice(0, -1) }),
    ).toBe(false);
    const otherKey = { ...DOCS, key: "other" };
    expect(verifyChannelAuth(otherKey, { socketId: "1.2", channel: "presence-x", channelData, auth })).toBe(false);
  });
});

describe("REST request signing", () => {
  it("matches the worked example of Pusher's HTTP API reference", () => {
    expect(md5Hex(DOCS_BODY)).toBe("ec365a775a4cd0599faeb73354201b6f");
    const signed = signRestRequest(DOCS, {
      method: "POST",
      path: "/apps/3/events",
      body: DOCS_BODY,
      timestamp: DOCS_TIMESTAMP,
    });
    expect(signed).toEqual(Object.fromEntries(new URLSearchParams(DOCS_QUERY)));
    expect(buildStringToSign("POST", "/apps/3/events", params(DOCS_QUERY))).toBe(
      "POST\n/apps/3/events\nauth_key=278d425bdf160c739803&auth_timestamp=1353088179&auth_version=1.0&body_md5=ec365a775a4cd0599faeb73354201b6f",
    );
  });

  it.each([
    [
      "/apps/102015/channels",
      1427034994,
      { filter_by_prefix: "presence-", info: "user_count" },
      "4d8a02edcc8a758b0162cd6da690a9a45fb8ae326a276dca1e06a0bc42796c11",
    ],
    [
      "/apps/102015/channels",
      1427036577,
      { filter_by_prefix: "presence-" },
      "b540383af4582af5fbb5df7be5472d54bd0838c9c2021c7743062568839e6f97",
    ],
    ["/apps/102015/channels", 1427036787, {}, "df89248f87f6e6d028925e0b04d60f316527a865992ace6936afa91281d8bef0"],
    [
      "/apps/102015/channels/presence-session-d41a439c438a100756f5-4bf35003e819bb138249-ROpCFmgFhXY",
      1427053326,
      { info: "user_count,subscription_count" },
      "f93ceb31f396aef336226efe512aaf339bd5e39c7c2c04b81cc8681dc16ee785",
    ],
    [
      "/apps/102015/channels/presence-session-d41a439c438a100756f5-4bf35003e819bb138249-nYJLy67qh52/users",
      1427053709,
      {},
      "207feaf4e8efeb24e5f148011704251bf90e2059a5f97a3eb52d06178b11feca",
    ],
  ])("matches the GET vector %s at %i", (path, timestamp, extra, signature) => {
    const signed = signRestRequest(GO_SUITE, { method: "GET", path, params: extra, timestamp });
    expect(signed.auth_signature).toBe(signature);
    const query = new URLSearchParams(signed).toString();
    expect(verifyRestQuery(GO_SUITE, { method: "GET", path, query, nowMs: timestamp * 1000 })).toMatchObject({
      ok: true,
    });
  });

  it("accepts the worked example at its own time and up to 600 s either side", () => {
    for (const skew of [0, 600, -600]) {
      const nowMs = (DOCS_TIMESTAMP + skew) * 1000;
      const result = verifyRestQuery(DOCS, { method: "POST", path: "/apps/3/events", query: DOCS_QUERY, nowMs });
      expect(result.ok).toBe(true);
      if (result.ok) expect(verifyBodyMd5(result.params, new TextEncoder().encode(DOCS_BODY))).toBe(true);
    }
  });

  it("refuses a stale or future timestamp", () => {
    for (const skew of [601, -601, 86_400]) {
      const nowMs = (DOCS_TIMESTAMP + skew) * 1000;
      expect(verifyRestQuery(DOCS, { method: "POST", path: "/apps/3/events", query: DOCS_QUERY, nowMs })).toEqual({
        ok: false,
        code: "invalid_timestamp",
      });
    }
  });

  it("refuses a wrong signature, key, method, path, version, extra or repeated parameter", () => {
    const nowMs = DOCS_TIMESTAMP * 1000;
    const check = (query: string, method = "POST", path = "/apps/3/events") =>
      verifyRestQuery(DOCS, { method, path, query, nowMs });
    const refused = { ok: false, code: "invalid_auth" };
    expect(check(DOCS_QUERY.replace("auth_signature=da", "auth_signature=db"))).toEqual(refused);
    expect(check(DOCS_QUERY, "GET")).toEqual(refused);
    expect(check(DOCS_QUERY, "POST", "/apps/4/events")).toEqual(refused);
    expect(check(`${DOCS_QUERY}&info=user_count`)).toEqual(refused);
    expect(check(`${DOCS_QUERY}&auth_key=278d425bdf160c739803`)).toEqual(refused);
    expect(check(`${DOCS_QUERY}&AUTH_KEY=278d425bdf160c739803`)).toEqual(refused);
    expect(check(DOCS_QUERY.replace("auth_version=1.0", "auth_version=2.0"))).toEqual(refused);
    expect(check(DOCS_QUERY.replace(/&auth_signature=.*/, ""))).toEqual(refused);
    expect(check("")).toEqual(refused);
    const otherKey = signRestRequest(
      { ...DOCS, key: "other" },
      { method: "GET", path: "/apps/3/channels", timestamp: DOCS_TIMESTAMP },
    );
    expect(check(new URLSearchParams(otherKey).toString(), "GET", "/apps/3/channels")).toEqual(refused);
  });

  it("checks body_md5: required for a body, compared whenever present", () => {
    const body = new TextEncoder().encode(DOCS_BODY);
    expect(verifyBodyMd5(params(DOCS_QUERY), body)).toBe(true);
    expect(verifyBodyMd5(params(DOCS_QUERY), new TextEncoder().encode(`${DOCS_BODY} `))).toBe(false);
    expect(verifyBodyMd5(new Map(), body)).toBe(false);
    expect(verifyBodyMd5(new Map(), new Uint8Array())).toBe(true);
    expect(verifyBodyMd5(new Map([["body_md5", md5Hex("")]]), new Uint8Array())).toBe(true);
    expect(verifyBodyMd5(new Map([["body_md5", "0".repeat(32)]]), new Uint8Array())).toBe(false);
  });

  it("accepts what the official pusher SDK signs, with a body and with query parameters", () => {
    const sdk = new Pusher({ ...DOCS, host: "127.0.0.1" });
    const body = JSON.stringify({ name: "e", channels: ["a"], data: "{}" });
    const post = sdk.createSignedQueryString({ method: "POST", path: "/apps/3/events", body });
    const posted = verifyRestQuery(DOCS, { method: "POST", path: "/apps/3/events", query: post, nowMs: Date.now() });
    expect(posted.ok).toBe(true);
    if (posted.ok) expect(verifyBodyMd5(posted.params, new TextEncoder().encode(body))).toBe(true);

    const get = sdk.createSignedQueryString({
      method: "GET",
      path: "/apps/3/channels",
      params: { filter_by_prefix: "presence-", info: "user_count" },
    });
    expect(verifyRestQuery(DOCS, { method: "GET", path: "/apps/3/channels", query: get, nowMs: Date.now() }).ok).toBe(
      true,
    );
  });
});
