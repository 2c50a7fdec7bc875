/**
 * Two app nodes of one deployment, as separate processes sharing Redis and PostgreSQL
 * (docs/protocol.md section 1: "every transition is atomic, also across several app nodes";
 * `login:resume` works "after a reconnect, on any node").
 *
 * The deployment (test/support/deployment.ts):
 * - One PostgreSQL database and one REDIS_PREFIX made for this run, removed at the end
 *   (only keys under the prefix are deleted, the Socket.IO stream included).
 * - Both nodes have the same PUBLIC_URL (node 1's address), as the nodes behind one
 *   load balancer do: the EIP-4361 domain and uri come from it. A wallet "sent to
 *   node 2" keeps the QR's URL and only its transport goes to node 2's address (a
 *   fetch that rewrites the origin), so what it signs still names the deployment.
 * - Both nodes have the same DATA_DIR. That is how the nodes of one deployment share the
 *   access-token signing key (DATA_DIR/keys/jwt-es256.json): with separate folders each
 *   node would make its own key and reject the other's tokens.
 * - TRUST_PROXY=true and RATE_LIMIT_AUTH_PER_IP=6: the nodes sit behind a proxy, and each
 *   scenario's wallets send their own X-Forwarded-For address, so the small per-IP limit
 *   that the rate-limit scenario needs does not throttle the others.
 *
 * Requires Redis and PostgreSQL: skipped with a printed reason locally when either is
 * down, a failure in CI.
 */
import type pg from "pg";
import { io } from "socket.io-client";
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createLoginClient } from "../../lib/client/login-client";
import type { LoginClient } from "../../lib/client/login-client";
import { API_PATHS } from "../../lib/protocol/login";
import type {
  Ack,
  ClientToServerEvents,
  LoginStateEvent,
  MeResponse,
  RedeemResponse,
  ServerToClientEvents,
  SessionStatus,
} from "../../lib/protocol/login";
import { approveLogin, createAuthBody, createWalletKey, fetchLoginRequest } from "../../lib/wallet";
import { createTestDeployment, requireDeploymentServices } from "../support/deployment";
import type { ServerProcess } from "../support/server-process";
import { startTcpProxy } from "../support/tcp-proxy";
import type { TcpProxy } from "../support/tcp-proxy";

const AUTH_LIMIT_PER_IP = 6;
const STATE_TIMEOUT_MS = 8_000;

const hasServices = await requireDeploymentServices({ postgres: true });

type TestSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A wallet whose requests go to `nodeUrl` whatever origin the QR names, from `ip` (X-Forwarded-For). */
function walletVia(nodeUrl: string, ip: string) {
  const calls: string[] = [];
  const walletFetch: typeof fetch = (input, init) => {
    const requested = new URL(input instanceof Request ? input.url : input.toString());
    const target = new URL(`${requested.pathname}${requested.search}`, nodeUrl);
    const headers = new Headers(init?.headers);
    headers.set("x-forwarded-for", ip);
    calls.push(`${init?.method ?? "GET"} ${target.href}`);
    return fetch(target, { ...init, headers });
  };
  return { fetch: walletFetch, calls };
}

async function getMe(nodeUrl: string, accessToken: string): Promise<{ status: number; body: MeResponse }> {
  const response = await fetch(`${nodeUrl}${API_PATHS.me}`, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: response.status, body: (await response.json()) as MeResponse };
}

function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  });
}

/** Resolves with the first `login:state` on `socket` that matches. */
function nextStateEvent(socket: TestSocket, match: (event: LoginStateEvent) => boolean, timeoutMs = STATE_TIMEOUT_MS) {
  return new Promise<LoginStateEvent>((resolve, reject) => {
    const onState = (event: LoginStateEvent) => {
      if (!match(event)) return;
      clearTimeout(timer);
      socket.off("login:state", onState);
      resolve(event);
    };
    const timer = setTimeout(() => {
      socket.off("login:state", onState);
      reject(new Error(`no matching login:state within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("login:state", onState);
  });
}

describe.skipIf(!hasServices)("two app nodes sharing Redis and PostgreSQL", () => {
  const deployment = createTestDeployment({ label: "multinode", postgres: true });
  let db: pg.Client | undefined;
  let node1: ServerProcess;
  let node2: ServerProcess;
  /** Clients and sockets a test opened; closed after each test, also when it fails. */
  const openClients: LoginClient[] = [];
  const openSockets: TestSocket[] = [];
  const proxies: TcpProxy[] = [];

  const track = <T extends LoginClient>(client: T): T => {
    openClients.push(client);
    return client;
  };

  beforeAll(async () => {
    await deployment.setUp();
    // Started together on an empty database and data folder (both nodes have the same
    // DATA_DIR and PUBLIC_URL, node 1's address): they race for the migration and for
    // creating the signing key, as a fresh deployment does.
    [node1, node2] = await deployment.startNodes(["node 1", "node 2"], {
      TRUST_PROXY: "true",
      RATE_LIMIT_AUTH_PER_IP: String(AUTH_LIMIT_PER_IP),
      RATE_LIMIT_LOGIN_START_PER_IP: "10000",
      RATE_LIMIT_LOGIN_START_PER_SOCKET: "1000",
    });
    db = await deployment.connectDatabase();
  });

  async function closeOpened() {
    for (const client of openClients.splice(0)) client.close();
    for (const socket of openSockets.splice(0)) socket.disconnect();
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  }

  afterEach(closeOpened);
  afterAll(() => deployment.cleanup(closeOpened));

  it("shares one signing key between the nodes (same DATA_DIR)", async () => {
    const [jwks1, jwks2] = await Promise.all(
      [node1, node2].map(async (node) => (await (await fetch(`${node.url}${API_PATHS.jwks}`)).json()) as unknown),
    );
    expect(jwks1).toEqual(jwks2);
  });

  it("pushes scanned and approved from the wallet's node to the browser's node", async () => {
    const browser = track(createLoginClient({ endpoint: node1.url }));
    const seen: string[] = [];
    browser.onState((event) => seen.push(event.state));
    const session = await browser.start();
    expect(session.qr).toBe(`${node1.url}/api/login/requests/${session.sessionId}`);

    const wallet = walletVia(node2.url, "203.0.113.1");
    const key = createWalletKey();
    const request = await fetchLoginRequest(session.qr, { fetch: wallet.fetch });
    expect(request.domain).toBe(new URL(node1.url).host);
    await browser.waitForState(["scanned"], { timeoutMs: STATE_TIMEOUT_MS });

    await approveLogin({ key, request, matchCode: session.matchCode, fetch: wallet.fetch });
    const approved = await browser.waitForState(["approved"], { timeoutMs: STATE_TIMEOUT_MS });
    expect(approved.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(wallet.calls).toEqual([
      `GET ${node2.url}/api/login/requests/${session.sessionId}`,
      `POST ${node2.url}/api/auth`,
    ]);

    const tokens = await browser.redeem();
    expect(tokens.user.address).toBe(key.address);
    // A token from node 1 is good on both nodes.
    for (const node of [node1, node2]) {
      const me = await getMe(node.url, tokens.accessToken);
      expect(me.status).toBe(200);
      expect(me.body.user.address).toBe(key.address);
    }
    expect(seen).toEqual(["scanned", "approved", "redeemed"]);
  });

  it("lets exactly one of 20 valid answers split across both nodes win", async () => {
    const browser = track(createLoginClient({ endpoint: node1.url }));
    const rawEvents: LoginStateEvent[] = [];
    browser.socket.on("login:state", (event) => rawEvents.push(event));
    const session = await browser.start();
    const request = await fetchLoginRequest(session.qr, { fetch: walletVia(node2.url, "198.51.100.250").fetch });

    const keys = Array.from({ length: 20 }, () => createWalletKey());
    // Signed ahead, so the 20 requests leave together.
    const bodies = await Promise.all(keys.map((key) => createAuthBody({ key, request, matchCode: session.matchCode })));
    const results = await Promise.all(
      bodies.map(async (body, i) => {
        const node = i % 2 === 0 ? node1 : node2;
        const response = await postJson(`${node.url}${API_PATHS.auth}`, body, {
          "x-forwarded-for": `198.51.100.${i + 1}`,
        });
        return { i, node: node.name, status: response.status, body: (await response.json()) as unknown };
      }),
    );

    const winners = results.filter((r) => r.status === 200);
    expect(winners, JSON.stringify(results)).toHaveLength(1);
    const losers = results.filter((r) => r.status !== 200);
    for (const loser of losers) {
      expect(loser.status, JSON.stringify(loser)).toBe(401);
      expect(loser.body).toMatchObject({ error: { code: "session_closed" } });
    }
    const winnerKey = keys[winners[0]!.i]!;

    await browser.waitForState(["approved"], { timeoutMs: STATE_TIMEOUT_MS });
    const redeemedPush = nextStateEvent(browser.socket, (e) => e.state === "redeemed");
    const tokens = await browser.redeem();
    expect(tokens.user.address).toBe(winnerKey.address);
    await redeemedPush;
    // Every push is in by now (the redeem comes after any approval): exactly one approval.
    expect(rawEvents.filter((e) => e.state === "approved")).toHaveLength(1);

    const addresses = keys.map((key) => key.address);
    const users = await db!.query<{ id: string; address: string }>(
      `SELECT id, address FROM "User" WHERE address = ANY($1)`,
      [addresses],
    );
    expect(users.rows.map((row) => row.address)).toEqual([winnerKey.address]);
    const events = await db!.query<{ n: string }>(`SELECT count(*) AS n FROM "LoginEvent" WHERE "userId" = $1`, [
      users.rows[0]!.id,
    ]);
    expect(Number(events.rows[0]!.n)).toBe(1);
  });

  it("counts the per-IP auth rate limit across nodes", async () => {
    const ip = "192.0.2.77";
    const answers: Array<{ node: string; status: number; retryAfter: string | null; code: unknown }> = [];
    // 4 to each node, alternating; sequential so the count is exact.
    for (let i = 0; i < 8; i++) {
      const node = i % 2 === 0 ? node1 : node2;
      const response = await postJson(`${node.url}${API_PATHS.auth}`, {}, { "x-forwarded-for": ip });
      const body = (await response.json()) as { error?: { code?: unknown } };
      answers.push({
        node: node.name,
        status: response.status,
        retryAfter: response.headers.get("retry-after"),
        code: body.error?.code,
      });
    }
    const limited = answers.filter((a) => a.status === 429);
    expect(limited.length, JSON.stringify(answers)).toBeGreaterThanOrEqual(2);
    // The limit is 6 per IP for the deployment: the first 6 pass (and fail validation), the rest are refused.
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400, 400, 400, 400, 429, 429]);
    for (const answer of limited) {
      expect(answer.code).toBe("rate_limited");
      expect(Number(answer.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(Number(answer.retryAfter)).toBeLessThanOrEqual(60);
    }
  });

  // Stops node 1: keep it last.
  it("keeps approved and open sessions alive when the node that started them stops", async () => {
    // A: approved on node 2 while its browser is on node 1.
    const browserA = track(createLoginClient({ endpoint: node1.url }));
    const sessionA = await browserA.start();
    const walletA = walletVia(node2.url, "203.0.113.2");
    const keyA = createWalletKey();
    const requestA = await fetchLoginRequest(sessionA.qr, { fetch: walletA.fetch });
    await approveLogin({ key: keyA, request: requestA, matchCode: sessionA.matchCode, fetch: walletA.fetch });
    const approvedA = await browserA.waitForState(["approved"], { timeoutMs: STATE_TIMEOUT_MS });
    expect(approvedA.code).toBeDefined();

    // B: started on node 1 through a load balancer, not yet scanned when node 1 goes.
    const balancer = await startTcpProxy(node1.port);
    proxies.push(balancer);
    const browserB = track(
      createLoginClient({ endpoint: balancer.url, io: { reconnectionDelay: 100, reconnectionDelayMax: 500 } }),
    );
    const sessionB = await browserB.start();
    const clientErrors: unknown[] = [];
    browserB.onError((error) => clientErrors.push(error));

    // Node 1 goes away: the balancer sends new connections to node 2, then node 1 stops.
    browserA.close();
    balancer.setTarget(node2.port);
    const reconnected = new Promise<void>((resolve) => browserB.socket.io.once("reconnect", () => resolve()));
    // Longer than the server's own 10 s forced exit, so a hang shows as its exit code 1.
    const exit = await node1.stop(15_000);
    // Soft: a shutdown that hangs on open sockets must not hide the rest of the scenario.
    expect
      .soft(exit, `node 1 did not shut down cleanly on SIGTERM\n${node1.output()}`)
      .toEqual({ code: 0, signal: null });

    // A: the browser connects to node 2 and resumes there; the code is still good.
    const socket: TestSocket = io(node2.url, { path: "/socket.io", transports: ["websocket"], reconnection: false });
    openSockets.push(socket);
    const resumed = (await socket
      .timeout(5_000)
      .emitWithAck("login:resume", { sessionId: sessionA.sessionId, browserSecret: sessionA.browserSecret })) as Ack<{
      session: SessionStatus;
    }>;
    expect(resumed).toMatchObject({ ok: true, session: { sessionId: sessionA.sessionId, state: "approved" } });
    expect(resumed.ok && resumed.session.code).toBe(approvedA.code);
    const redeemA = await postJson(`${node2.url}${API_PATHS.redeem}`, {
      sessionId: sessionA.sessionId,
      browserSecret: sessionA.browserSecret,
      code: approvedA.code,
    });
    expect(redeemA.status).toBe(200);
    const tokensA = (await redeemA.json()) as RedeemResponse;
    expect(tokensA.user.address).toBe(keyA.address);
    const meA = await getMe(node2.url, tokensA.accessToken);
    expect(meA.status).toBe(200);
    expect(meA.body.user.address).toBe(keyA.address);

    // B: the client reconnects through the balancer (to node 2) and resumes by itself.
    await reconnected;
    const walletB = walletVia(node2.url, "203.0.113.3");
    const keyB = createWalletKey();
    const requestB = await fetchLoginRequest(sessionB.qr, { fetch: walletB.fetch });
    await browserB.waitForState(["scanned"], { timeoutMs: STATE_TIMEOUT_MS });
    const statusB = await browserB.resume();
    expect(statusB).toMatchObject({ sessionId: sessionB.sessionId, state: "scanned" });
    await approveLogin({ key: keyB, request: requestB, matchCode: sessionB.matchCode, fetch: walletB.fetch });
    await browserB.waitForState(["approved"], { timeoutMs: STATE_TIMEOUT_MS });
    const tokensB = await browserB.redeem();
    expect(tokensB.user.address).toBe(keyB.address);
    const meB = await getMe(node2.url, tokensB.accessToken);
    expect(meB.status).toBe(200);
    expect(meB.body.user.address).toBe(keyB.address);
    expect(clientErrors).toEqual([]);
  }, 45_000);
});
