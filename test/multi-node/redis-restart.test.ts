/**
 * Two app nodes on PostgreSQL and a Redis of the test's own (persistence off), which the
 * test SIGKILLs and starts again empty: what each of the project's clients sees
 * (README "Scaling out", docs/protocol.md section 8, "Outages").
 *
 * - While Redis is down: GET /api/health stays 200, GET /api/ready answers 503 naming
 *   redis; every request and socket event that needs Redis is answered `unavailable`
 *   (503 + Retry-After, or the ack) within a second, never 500.
 * - After it is back empty: ready is 200 again; every login the browsers were following
 *   ends at the browser (`expired`, reason store_reset); a signed data fetch accepted
 *   before the restart is refused, a fresh one accepted; a presence observer ends with
 *   exactly the members still there (no ghost of the one who left during the outage, no
 *   one missing); a new login works across the nodes.
 * - Last, a node SIGKILLed mid-login: its browser reconnects through the balancer (a TCP
 *   proxy) to the other node, resumes and completes.
 *
 * Requires PostgreSQL and redis-server: skipped with a printed reason locally when either
 * is missing, a failure in CI. The shared Redis is not used by the nodes.
 */
import { randomUUID } from "node:crypto";
import { Wallet, hashMessage } from "ethers";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLoginClient, LoginClientError } from "../../lib/client/login-client";
import type { LoginClient } from "../../lib/client/login-client";
import type { CreateAppResponse } from "../../lib/protocol/data";
import { API_PATHS } from "../../lib/protocol/login";
import type { StartedSession } from "../../lib/protocol/login";
import { createChannelsClient } from "../../lib/sdk/channels-client";
import type { ChannelsClient, ChannelSubscription } from "../../lib/sdk/channels-client";
import { approveLogin, createAuthBody, createWalletKey, fetchLoginRequest } from "../../lib/wallet";
import { createTestDeployment, requireOutageServices } from "../support/deployment";
import { startRedisProcess } from "../support/redis-process";
import type { RedisProcess } from "../support/redis-process";
import type { ServerProcess } from "../support/server-process";
import { startTcpProxy } from "../support/tcp-proxy";
import type { TcpProxy } from "../support/tcp-proxy";
import { logIn } from "../protocol/helpers";
import { signInUser } from "../channels/helpers";

const END_TIMEOUT_MS = 20_000;
/** The bound for an answer while a dependency is down. */
const FAST_FAIL_MS = 1_000;
const PRESENCE = "presence-restart";

const hasServices = await requireOutageServices("Redis restart suite");

/** Polls `check` until it returns true; throws after `timeoutMs`. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = END_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function readiness(url: string) {
  const response = await fetch(`${url}/api/ready`, { signal: AbortSignal.timeout(5_000) });
  return {
    status: response.status,
    retryAfter: response.headers.get("retry-after"),
    body: (await response.json()) as unknown,
  };
}

function postJson(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
}

/** Resolves with the first state at or past `states`, or the ended event it rejected with. */
async function settle(client: LoginClient, states: Parameters<LoginClient["waitForState"]>[0]) {
  try {
    return await client.waitForState(states, { timeoutMs: END_TIMEOUT_MS });
  } catch (error) {
    if (error instanceof LoginClientError && error.event) return error.event;
    throw error;
  }
}

describe.skipIf(!hasServices)("a Redis restart (empty) and a node death under two nodes", () => {
  const deployment = createTestDeployment({ label: "redis_restart", postgres: true });
  let redis: RedisProcess | undefined;
  let nodeA: ServerProcess;
  let nodeB: ServerProcess;
  let proxy: TcpProxy | undefined;
  const loginClients: LoginClient[] = [];
  const channelClients: ChannelsClient[] = [];
  let app: { id: string; privateKey: string };

  /** Browsers following a login when Redis dies: three through the balancer (node A), two on node B. */
  const inFlight: Array<{ client: LoginClient; session: StartedSession }> = [];
  let observer: ChannelSubscription;
  let stayingUserId: string;
  let leavingUserId: string;
  let leavingClient: ChannelsClient;
  let acceptedBeforeRestart: unknown;
  /** A browser that opened while Redis was down (its connection refused). */
  let lateBrowser: LoginClient | undefined;

  const openLoginClient = (endpoint: string) => {
    const client = createLoginClient({ endpoint, ackTimeoutMs: 5_000 });
    loginClients.push(client);
    return client;
  };
  const openChannels = (endpoint: string, accessToken: string) => {
    const client = createChannelsClient({ endpoint, getAccessToken: () => accessToken, ackTimeoutMs: 5_000 });
    channelClients.push(client);
    return client;
  };
  const signedData = () => {
    const now = Math.floor(Date.now() / 1000);
    const message = { appId: app.id, iat: now, exp: now + 120, nonce: randomUUID(), metaData: { limit: 10, page: 1 } };
    const text = JSON.stringify(message);
    return { message, fyresign: new Wallet(app.privateKey).signMessageSync(text), messageHash: hashMessage(text) };
  };
  const memberIds = () =>
    observer
      .members()
      .map((m) => m.id)
      .sort();

  beforeAll(async () => {
    redis = await startRedisProcess();
    await deployment.setUp();
    [nodeA, nodeB] = await deployment.startNodes(["node A", "node B"], {
      REDIS_URL: redis.url,
      CHANNELS_NODE_TIMEOUT_SECONDS: "2",
      LOG_LEVEL: "info",
      RATE_LIMIT_LOGIN_START_PER_IP: "10000",
      RATE_LIMIT_LOGIN_START_PER_SOCKET: "1000",
    });
    proxy = await startTcpProxy(nodeA.port);

    const { redeemed } = await logIn(nodeA.url);
    const created = await fetch(`${nodeA.url}/api/apps`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${redeemed.accessToken}` },
      body: JSON.stringify({ name: "Restart" }),
    });
    const body = (await created.json()) as CreateAppResponse;
    app = { id: body.app.id, privateKey: body.privateKey! };
  }, 90_000);

  afterAll(() =>
    deployment.cleanup(
      () => {
        for (const client of loginClients.splice(0)) client.close();
        for (const client of channelClients.splice(0)) client.close();
      },
      () => proxy?.close(),
      () => redis?.stop(),
    ),
  );

  it("is ready on both nodes while Redis runs, with logins, presence and a data fetch under way", async () => {
    for (const node of [nodeA, nodeB]) {
      expect(await readiness(node.url)).toMatchObject({ status: 200, body: { ok: true } });
    }
    for (const endpoint of [proxy!.url, proxy!.url, proxy!.url, nodeB.url, nodeB.url]) {
      const client = openLoginClient(endpoint);
      inFlight.push({ client, session: await client.start() });
    }
    // One of them scanned: the wallet fetched its request.
    await fetchLoginRequest(inFlight[0]!.session.qr);
    await inFlight[0]!.client.waitForState(["scanned"], { timeoutMs: END_TIMEOUT_MS });

    const [watcher, staying, leaving] = await Promise.all([
      signInUser(nodeA.url),
      signInUser(nodeA.url),
      signInUser(nodeA.url),
    ]);
    stayingUserId = staying.userId;
    leavingUserId = leaving.userId;
    observer = openChannels(proxy!.url, watcher.accessToken).subscribe(PRESENCE);
    openChannels(proxy!.url, staying.accessToken).subscribe(PRESENCE);
    leavingClient = openChannels(nodeB.url, leaving.accessToken);
    leavingClient.subscribe(PRESENCE);
    const expected = [watcher.userId, staying.userId, leaving.userId].sort();
    await eventually("all three members seen", () => JSON.stringify(memberIds()) === JSON.stringify(expected));

    acceptedBeforeRestart = signedData();
    expect((await postJson(`${nodeA.url}/api/data/users`, acceptedBeforeRestart)).status).toBe(200);
  });

  it("answers 503 unavailable within a second while Redis is down; health stays 200, ready names redis", async () => {
    // Connected before: new connections are refused while Redis is away (they cannot be counted).
    const connected = [nodeA, nodeB].map((node) => openLoginClient(node.url));
    const socket = io(nodeB.url, { path: "/socket.io", transports: ["websocket"] });
    await eventually("sockets connected", () => socket.connected && connected.every((c) => c.socket.connected));

    await redis!.kill();
    for (const node of [nodeA, nodeB]) {
      const ready = await readiness(node.url);
      expect(ready).toMatchObject({
        status: 503,
        retryAfter: "1",
        body: { ok: false, error: { code: "unavailable" }, failed: ["redis"], draining: false },
      });
      expect((await fetch(`${node.url}/api/health`)).status).toBe(200);
    }

    // A new login on each node.
    for (const client of connected) {
      const started = Date.now();
      const refused = await client.start().catch((error: unknown) => error);
      expect(Date.now() - started).toBeLessThan(FAST_FAIL_MS);
      expect(refused).toBeInstanceOf(LoginClientError);
      expect((refused as LoginClientError).code).toBe("unavailable");
    }

    // A new connection is refused as unavailable; the login client asks again by itself.
    lateBrowser = openLoginClient(nodeA.url);
    const refusedConnect = await new Promise<{ data?: unknown }>((resolve) =>
      lateBrowser!.socket.once("connect_error", resolve),
    );
    expect(refusedConnect.data).toMatchObject({ code: "unavailable" });

    // A wallet's answer, a wallet's request fetch and a data fetch.
    const { session } = inFlight[1]!;
    const started = Date.now();
    const answers = await Promise.all([
      fetch(`${nodeA.url}${API_PATHS.loginRequest(session.sessionId)}`),
      postJson(`${nodeB.url}${API_PATHS.auth}`, {
        sessionId: session.sessionId,
        message: "x",
        signature: `0x${"1".repeat(130)}`,
        matchCode: session.matchCode,
      }),
      postJson(`${nodeA.url}/api/data/users`, signedData()),
    ]);
    expect(Date.now() - started).toBeLessThan(FAST_FAIL_MS);
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toBe("1");
      expect(await answer.json()).toMatchObject({ error: { code: "unavailable" } });
    }

    // A socket event on a channel: acked unavailable.
    try {
      const ack = (await socket
        .timeout(5_000)
        .emitWithAck("channel:subscribe", { channel: "public-during" })) as unknown;
      expect(ack).toMatchObject({ ok: false, error: { code: "unavailable" } });
    } finally {
      socket.disconnect();
    }

    // One member leaves while Redis is down: the node cannot record it yet.
    leavingClient.close();
  });

  it("after Redis is back empty: ready again, every browser told its end, replays refused, presence right", async () => {
    await redis!.restart();
    for (const node of [nodeA, nodeB]) {
      await eventually(`${node.name} ready`, async () => (await readiness(node.url)).status === 200);
    }

    // Every browser that was following a login hears that it is gone.
    const ends = await Promise.all(inFlight.map(({ client }) => settle(client, ["approved"])));
    for (const end of ends) expect(end).toMatchObject({ state: "expired", reason: "store_reset" });

    // The signature accepted before the restart is refused; a new one is accepted.
    const replay = await postJson(`${nodeB.url}/api/data/users`, acceptedBeforeRestart);
    expect(replay.status).toBe(401);
    expect(await replay.json()).toMatchObject({ error: { code: "expired" } });
    expect((await postJson(`${nodeB.url}/api/data/users`, signedData())).status).toBe(200);

    // The observer ends with the two who are still there: no ghost, no one missing.
    const watcherId = memberIds().find((id) => id !== stayingUserId && id !== leavingUserId);
    const expected = [watcherId, stayingUserId].sort();
    await eventually("presence settles", () => JSON.stringify(memberIds()) === JSON.stringify(expected));
    expect(observer.isSubscribed()).toBe(true);

    // The browser refused during the outage connected by itself and can log in.
    await eventually("late browser connected", () => lateBrowser!.socket.connected);
    expect((await lateBrowser!.start()).state).toBe("pending");

    // A login across the nodes: browser through the balancer, wallet on node B.
    const browser = openLoginClient(proxy!.url);
    const session = await browser.start();
    const request = await fetchLoginRequest(session.qr, {
      fetch: (input, init) => fetch(new URL(new URL(String(input)).pathname, nodeB.url), init),
    });
    const key = createWalletKey();
    await approveLogin({
      key,
      request,
      matchCode: session.matchCode,
      fetch: (input, init) => fetch(new URL(new URL(String(input)).pathname, nodeB.url), init),
    });
    await browser.waitForState(["approved"], { timeoutMs: END_TIMEOUT_MS });
    expect((await browser.redeem()).user.address).toBe(key.address);

    // Each node logged the outage once each way, no stack per request, no unhandled client error.
    for (const node of [nodeA, nodeB]) {
      const lines = node
        .output()
        .split("\n")
        .filter((line) => line.trim() !== "");
      const events = (name: string) => lines.filter((line) => line.includes(`"event":"${name}"`)).length;
      expect(events("dependency_down"), node.output()).toBe(1);
      expect(events("dependency_up"), node.output()).toBe(1);
      expect(node.output()).not.toMatch(/Unhandled error event|unhandled error|socket handler failed|"level":50/);
    }
  });

  it("a node SIGKILLed mid-login: its browser resumes on the other node and completes", async () => {
    const browser = openLoginClient(proxy!.url);
    const session = await browser.start();
    const request = await fetchLoginRequest(session.qr);
    await browser.waitForState(["scanned"], { timeoutMs: END_TIMEOUT_MS });

    proxy!.setTarget(nodeB.port);
    nodeA.child.kill("SIGKILL");
    await nodeA.exited;

    const key = createWalletKey();
    const body = await createAuthBody({ key, request, matchCode: session.matchCode });
    const answer = await postJson(`${nodeB.url}${API_PATHS.auth}`, body);
    expect(answer.status).toBe(200);
    const approved = await browser.waitForState(["approved"], { timeoutMs: END_TIMEOUT_MS });
    expect(approved.code).toBeDefined();
    expect((await browser.redeem()).user.address).toBe(key.address);
  });
});
