/**
 * GET /metrics against a running server: who may scrape it (bearer token on the main port,
 * the listener of its own on 127.0.0.1), the Prometheus text parsed, and each counter moving
 * after the thing it counts happened through the wire.
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateAppResponse } from "../../lib/protocol/data";
import { createDataClient } from "../../lib/sdk/data-client";
import { randomUUID } from "node:crypto";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { TEST_REDIS_URL, deleteRedisKeys, requireService } from "../support/services";
import { hasRedisServer, startRedisProcess, type RedisProcess } from "../support/redis-process";
import { connectSocket, emitAck, expectError, logIn, postJson, request, startLogin } from "../protocol/helpers";
import { connectChannelClient, createPusherSdk, postChannelAuth, type ChannelClient } from "../channels/helpers";

const TOKEN = "metrics-test-token-0123456789";

/** One sample per series: `name{a="1",b="2"}` (labels sorted) -> value. */
type Samples = Map<string, number>;

/** A small parser of the Prometheus text format (version 0.0.4): comments skipped, labels unescaped. */
function parseExposition(text: string): Samples {
  const samples: Samples = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const [, name, labelText = "", value = ""] = match;
    const labels: string[] = [];
    for (const label of labelText.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels.push(`${label[1]}="${label[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c))}"`);
    }
    const key = labels.length > 0 ? `${name}{${labels.sort().join(",")}}` : name!;
    samples.set(key, value === "+Inf" ? Infinity : value === "-Inf" ? -Infinity : Number(value));
  }
  return samples;
}

async function scrapeApp(app: TestApp): Promise<Samples> {
  const res = await request(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.text);
}

const hasRedis = await requireService("Redis", Number(new URL(TEST_REDIS_URL).port || 6379));

describe("GET /metrics", () => {
  let app: TestApp;
  const opened: Array<{ close(): void }> = [];

  beforeAll(async () => {
    app = await startTestApp({ METRICS_TOKEN: TOKEN, METRICS_PORT: "0", RATE_LIMIT_LOGIN_START_PER_SOCKET: "2" });
  });
  afterAll(async () => {
    for (const client of opened) client.close();
    await app?.stop();
  });

  const scrape = () => scrapeApp(app);

  const read = (samples: Samples, key: string) => {
    const value = samples.get(key);
    if (value === undefined) throw new Error(`no sample ${key}`);
    return value;
  };

  it("answers the main port only with the bearer token: 401 without or with a wrong one", async () => {
    expectError(await request(`${app.baseUrl}/metrics`), 401, "invalid_token");
    const wrong = await request(`${app.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}x` } });
    expectError(wrong, 401, "invalid_token");
    expect(wrong.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const basic = await request(`${app.baseUrl}/metrics`, {
      headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString("base64")}` },
    });
    expectError(basic, 401, "invalid_token");
    expectError(await postJson(`${app.baseUrl}/metrics`, {}, { authorization: `Bearer ${TOKEN}` }), 404, "not_found");
    await scrape();
    // The scheme's case does not matter (RFC 9110), the token's does.
    expect((await request(`${app.baseUrl}/metrics`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(
      200,
    );
    const upper = await request(`${app.baseUrl}/metrics`, {
      headers: { authorization: `Bearer ${TOKEN.toUpperCase()}` },
    });
    expectError(upper, 401, "invalid_token");
  });

  it("serves the listener of its own (METRICS_PORT) on 127.0.0.1 without a token, /metrics only", async () => {
    expect(app.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await request(`${app.metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(parseExposition(res.text).get("wallet_login_logins_started_total")).toBeGreaterThanOrEqual(0);
    const other = await request(`${app.metricsUrl}/api/health`);
    expectError(other, 404, "not_found");
    // Its answers carry the headers of every answer (docs/protocol.md section 0).
    for (const answer of [res, other]) {
      expect(answer.headers.get("x-frame-options")).toBe("DENY");
      expect(answer.headers.get("x-request-id")).toMatch(/^[A-Za-z0-9._:@/+=-]+$/);
    }
  });

  it("is 404 on the main port without METRICS_TOKEN, and nothing else listens", async () => {
    const plain = await startTestApp();
    try {
      expectError(await request(`${plain.baseUrl}/metrics`), 404, "not_found");
      expectError(
        await request(`${plain.baseUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } }),
        404,
        "not_found",
      );
      expect(plain.metricsUrl).toBeUndefined();
    } finally {
      await plain.stop();
    }
  });

  it("describes the node: the info gauge, the default process metrics, event-loop lag, the dependencies", async () => {
    const samples = await scrape();
    const info = [...samples.keys()].find((key) => key.startsWith("wallet_login_info{"));
    expect(info).toMatch(/database="sqlite"/);
    expect(info).toMatch(/stores="memory"/);
    expect(info).toMatch(/crypto="(native|js)"/);
    expect(info).toMatch(/login_writes="sqlite-/);
    expect(samples.get(info!)).toBe(1);
    expect(read(samples, "process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect(read(samples, "process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(samples.has("nodejs_eventloop_lag_p99_seconds")).toBe(true);
    expect(samples.has("nodejs_eventloop_lag_seconds")).toBe(true);
    expect(read(samples, 'wallet_login_dependency_outage{dependency="database"}')).toBe(0);
    expect(read(samples, 'wallet_login_dependency_errors_total{dependency="database"}')).toBe(0);
    // Without REDIS_URL there is no Redis to report on.
    expect(samples.has('wallet_login_dependency_outage{dependency="redis"}')).toBe(false);
  });

  it("moves with a login, a cancel, a rate-limit refusal, a data fetch, a trigger and its delivery", async () => {
    const before = await scrape();
    const delta = (after: Samples, key: string) => read(after, key) - (before.get(key) ?? 0);

    // A complete login (start, scan, approve, redeem).
    const { redeemed } = await logIn(app.baseUrl);

    // Two starts on one socket, the third refused (RATE_LIMIT_LOGIN_START_PER_SOCKET=2), one cancelled.
    const { socket } = await connectSocket(app.baseUrl);
    opened.push({ close: () => socket.disconnect() });
    const first = await startLogin(socket);
    await startLogin(socket);
    const refused = await emitAck(socket as unknown as Socket, "login:start", {});
    expect(refused).toMatchObject({ ok: false, error: { code: "rate_limited" } });
    const cancel = await emitAck(socket as unknown as Socket, "login:cancel", {
      sessionId: first.sessionId,
      browserSecret: first.browserSecret,
    });
    expect(cancel).toEqual({ ok: true });

    // A signed data fetch by a partner app of the signed-in user, and one with a bad signature.
    const created = await postJson<CreateAppResponse>(
      `${app.baseUrl}/api/apps`,
      { name: "Metrics" },
      { authorization: `Bearer ${redeemed.accessToken}` },
    );
    expect(created.status).toBe(201);
    const data = createDataClient({
      endpoint: app.baseUrl,
      appId: created.body.app.id,
      privateKey: created.body.privateKey!,
    });
    await data.fetch("users");
    const forged = await postJson(`${app.baseUrl}/api/data/users`, {
      message: { appId: created.body.app.id, iat: 1, exp: 2, nonce: "n", metaData: {} },
      fyresign: `0x${"11".repeat(65)}`,
    });
    expectError(forged, 401, "expired");

    // A public and a presence subscription, then a trigger through the REST API, delivered.
    const listener: ChannelClient = await connectChannelClient(app.baseUrl);
    opened.push(listener);
    expect(await listener.subscribe("metrics-news")).toMatchObject({ ok: true });
    const auth = await postChannelAuth(
      app.baseUrl,
      { socket_id: listener.socketId, channel_name: "presence-metrics" },
      { authorization: `Bearer ${redeemed.accessToken}` },
    );
    expect(auth.status).toBe(200);
    const joined = await listener.subscribe("presence-metrics", {
      auth: auth.body.auth,
      channel_data: auth.body.channel_data,
    });
    expect(joined).toMatchObject({ ok: true });
    const sdk = createPusherSdk(app.baseUrl, app.ctx.channelCredentials);
    await sdk.trigger("metrics-news", "headline", { id: 1 });
    await listener.waitForEvent("metrics-news", "headline");

    const after = await scrape();
    // logIn, the two starts on the rate-limited socket.
    expect(delta(after, "wallet_login_logins_started_total")).toBe(3);
    expect(delta(after, 'wallet_login_logins_total{outcome="approved"}')).toBe(1);
    expect(delta(after, 'wallet_login_logins_total{outcome="redeemed"}')).toBe(1);
    expect(delta(after, 'wallet_login_logins_total{outcome="cancelled"}')).toBe(1);
    expect(delta(after, 'wallet_login_logins_total{outcome="denied"}')).toBe(0);
    expect(delta(after, "wallet_login_login_approve_duration_seconds_count")).toBe(1);
    expect(delta(after, "wallet_login_login_redeem_duration_seconds_count")).toBe(1);
    expect(read(after, 'wallet_login_login_redeem_duration_seconds_bucket{le="+Inf"}')).toBe(
      read(after, "wallet_login_login_redeem_duration_seconds_count"),
    );
    expect(delta(after, 'wallet_login_rate_limited_total{limit="login_start_socket"}')).toBe(1);
    expect(delta(after, 'wallet_login_rate_limited_total{limit="auth_ip"}')).toBe(0);
    expect(delta(after, 'wallet_login_data_fetches_total{outcome="ok"}')).toBe(1);
    // Refused by its code, before any signature work: exp lies in the past.
    expect(delta(after, 'wallet_login_data_fetches_total{outcome="expired"}')).toBe(1);
    expect(delta(after, "wallet_login_channel_triggers_total")).toBe(1);
    // The presence join's member_added goes to the other sockets only: the listener is alone.
    expect(delta(after, "wallet_login_channel_deliveries_total")).toBe(1);
    expect(read(after, "wallet_login_sockets_open")).toBeGreaterThanOrEqual(2);
    expect(read(after, 'wallet_login_channel_subscriptions{kind="public"}')).toBe(1);
    expect(read(after, 'wallet_login_channel_subscriptions{kind="presence"}')).toBe(1);
    expect(read(after, 'wallet_login_channel_subscriptions{kind="private"}')).toBe(0);
    expect(read(after, "wallet_login_presence_members")).toBe(1);
  });
});

describe.skipIf(!hasRedis)("GET /metrics, two nodes on Redis", () => {
  const prefix = `test:${randomUUID()}:`;
  const shared = {
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    APP_ID: "metrics-two-nodes",
    APP_KEY: "metrics-two-nodes-key",
    APP_SECRET: "metrics-two-nodes-secret-0123456789",
    METRICS_TOKEN: TOKEN,
  };
  let nodes: TestApp[] = [];
  const opened: ChannelClient[] = [];

  beforeAll(async () => {
    nodes = await Promise.all([startTestApp(shared), startTestApp(shared)]);
  });
  afterAll(async () => {
    for (const client of opened) client.close();
    await Promise.all(nodes.map((node) => node.stop()));
    await deleteRedisKeys(TEST_REDIS_URL, prefix);
  });

  it("counts a trigger where it was accepted and its delivery where the subscriber is", async () => {
    const [a, b] = nodes as [TestApp, TestApp];
    const listener = await connectChannelClient(b.baseUrl);
    opened.push(listener);
    expect(await listener.subscribe("metrics-across")).toMatchObject({ ok: true });
    const [beforeA, beforeB] = await Promise.all([scrapeApp(a), scrapeApp(b)]);
    await createPusherSdk(a.baseUrl, a.ctx.channelCredentials).trigger("metrics-across", "headline", { id: 2 });
    await listener.waitForEvent("metrics-across", "headline");
    const [afterA, afterB] = await Promise.all([scrapeApp(a), scrapeApp(b)]);
    const delta = (after: Samples, before: Samples, key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);
    expect(delta(afterA, beforeA, "wallet_login_channel_triggers_total")).toBe(1);
    expect(delta(afterB, beforeB, "wallet_login_channel_triggers_total")).toBe(0);
    expect(delta(afterA, beforeA, "wallet_login_channel_deliveries_total")).toBe(0);
    expect(delta(afterB, beforeB, "wallet_login_channel_deliveries_total")).toBe(1);
    expect(afterA.get('wallet_login_dependency_outage{dependency="redis"}')).toBe(0);
    const info = [...afterB.keys()].find((key) => key.startsWith("wallet_login_info{"));
    expect(info).toMatch(/stores="redis"/);
  });
});

describe.skipIf(!hasRedisServer())("GET /metrics while Redis is away (a redis-server of the test's own)", () => {
  let redis: RedisProcess;
  let app: TestApp;
  beforeAll(async () => {
    redis = await startRedisProcess();
    app = await startTestApp({ REDIS_URL: redis.url, METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => {
    await app?.stop();
    await redis?.stop();
  });

  /** GET /api/ready probes every dependency; polled (bounded) until it answers `status`. */
  async function readyUntil(status: number) {
    for (let attempt = 0; attempt < 100; attempt++) {
      if ((await request(`${app.baseUrl}/api/ready`)).status === status) return;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`GET /api/ready never answered ${status}`);
  }

  it("reports the outage and the errors while it is down, and the outage over once it is back", async () => {
    const errorsKey = 'wallet_login_dependency_errors_total{dependency="redis"}';
    const outageKey = 'wallet_login_dependency_outage{dependency="redis"}';
    const before = await scrapeApp(app);
    expect(before.get(outageKey)).toBe(0);
    await redis.kill();
    await readyUntil(503);
    const during = await scrapeApp(app);
    expect(during.get(outageKey)).toBe(1);
    expect(during.get(errorsKey)!).toBeGreaterThan(before.get(errorsKey)!);
    expect(during.get('wallet_login_dependency_outage{dependency="database"}')).toBe(0);
    await redis.restart();
    await readyUntil(200);
    expect((await scrapeApp(app)).get(outageKey)).toBe(0);
  });
});
