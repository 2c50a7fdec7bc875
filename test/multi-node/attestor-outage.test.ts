/**
 * The demo attestor (docs/protocol.md section 6) while PostgreSQL or Redis is away: one app node on
 * PostgreSQL behind a TCP proxy the test cuts, and a Redis of the test's own, which it SIGKILLs and
 * starts again empty. A wallet of the project's own (requestCredential) waits all along for an
 * admin's approval.
 *
 * - The database stopped (connections reset) and unreachable (a blackhole: nothing answers, nothing
 *   closes): every attestor route that needs it (requests, metadata, the admin routes, the status
 *   list) answers `503 unavailable` with Retry-After within a second; challenges and channel auth
 *   need no database and are served; so is a wallet's login answer (it writes the user), whose
 *   browser is told the login ended, and creating a partner app (a transaction). Once it is back: the pending request is still pending, a
 *   proof answered 503 is not accepted again (its challenge was used), and a login works. The
 *   project's wallet, asking while it is unreachable, gets its credential once it is back, and
 *   pairing as a push device (section 5, the same single-use challenge) is paired.
 * - Redis killed: challenges, requests and an admin's decision answer `503 unavailable` within a
 *   second (a decision is not taken, so no credential is issued that cannot be delivered); channel
 *   auth, the admin list, trust and the status list need no Redis. Once it is back empty: no
 *   challenge from before is accepted (used or not), the admin's approval reaches the waiting
 *   wallet, and a new request is issued and delivered.
 *
 * Requires PostgreSQL and redis-server: skipped with a printed reason locally when either is
 * missing, a failure in CI. The shared Redis is not used by the node.
 */
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { generateDeliveryKey } from "../../lib/claims/delivery";
import { publicJwkOf } from "../../lib/claims/es256k";
import { signWalletProof, thumbprintOf } from "../../lib/claims/wallet-proof";
import {
  PROOF_TYPES,
  walletChannel,
  type AdminRequestView,
  type AttestorMetadata,
  type ChallengeResponse,
  type CredentialRequestView,
} from "../../lib/protocol/attestor";
import {
  createWalletKey,
  pairDevice,
  requestCredential,
  type ReceivedCredential,
  type WalletKey,
} from "../../lib/wallet";
import { createTestDeployment, requireOutageServices, waitUntilReady } from "../support/deployment";
import { startRedisProcess, type RedisProcess } from "../support/redis-process";
import type { ServerProcess } from "../support/server-process";
import { TEST_POSTGRES_URL } from "../support/services";
import { startTcpProxy, type CutMode, type TcpProxy } from "../support/tcp-proxy";
import {
  logIn,
  openBrowser,
  postJson,
  request,
  scan,
  signAnswer,
  type BrowserSocket,
  type HttpResult,
} from "../protocol/helpers";

/** The bound for an answer while a dependency is down. */
const FAST_FAIL_MS = 1_000;
/** A request not answered by then is reported as status 0 ("no answer") instead of hanging the suite. */
const NO_ANSWER_MS = 10_000;

const hasServices = await requireOutageServices("attestor outage suite");

function expectUnavailable(what: string, res: HttpResult) {
  expect({ what, status: res.status, code: (res.body as { error?: { code?: string } })?.error?.code }).toEqual({
    what,
    status: 503,
    code: "unavailable",
  });
  expect(res.headers.get("retry-after"), what).toBe("1");
}

describe.skipIf(!hasServices)("the demo attestor while the database or Redis is away", () => {
  const deployment = createTestDeployment({ label: "attestor_outage", postgres: true });
  const admin = createWalletKey();
  let redis: RedisProcess | undefined;
  let databaseProxy: TcpProxy | undefined;
  let node: ServerProcess;
  let adminToken: string;
  let member: WalletKey;
  let metadata: AttestorMetadata;
  let attestorId: string;
  /** A request that was issued before any outage, and the proof that asked for it. */
  let issued: { id: string; proof: string };
  /** The wallet waiting for an admin's approval of `verified_email`. */
  let waiting: { id: string; credential: Promise<ReceivedCredential> };
  /** A proof over a challenge taken before Redis died, never sent before. */
  let unsentProof: string;
  /** The Redis key and value of the issued request's challenge before it was used. */
  let usedChallenge: { key: string; value: string };
  const browsers: BrowserSocket[] = [];
  let redisConnection: Redis | undefined;
  const redisClient = () => {
    redisConnection ??= new Redis(redis!.url, { maxRetriesPerRequest: 1, lazyConnect: false });
    redisConnection.on("error", () => {});
    return redisConnection;
  };

  /** Any attestor call: a hang shows as status 0 after NO_ANSWER_MS, and each answer is timed against FAST_FAIL_MS. */
  async function call(method: "GET" | "POST", path: string, body?: unknown, token?: string) {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (token) headers.authorization = `Bearer ${token}`;
    const started = Date.now();
    const res = await request(`${node.url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(NO_ANSWER_MS),
    }).catch(() => ({ status: 0, headers: new Headers(), body: undefined, text: "" }) as HttpResult);
    return { res, ms: Date.now() - started };
  }

  /** `call`, expected to be `503 unavailable` within FAST_FAIL_MS. */
  async function expectFastUnavailable(what: string, method: "GET" | "POST", path: string, body?: unknown) {
    const { res, ms } = await call(method, path, body, path.includes("/admin/") ? adminToken : undefined);
    expectUnavailable(what, res);
    expect(ms, what).toBeLessThan(FAST_FAIL_MS);
  }

  async function signedRequest(key: WalletKey, claims: string[], email?: string) {
    return (await signedRequestWithNonce(key, claims, email)).proof;
  }

  async function signedRequestWithNonce(key: WalletKey, claims: string[], email?: string) {
    const challenge = await postJson<ChallengeResponse>(`${node.url}/api/attestor/challenges`, {});
    expect(challenge.status).toBe(200);
    const nonce = challenge.body.nonce;
    const proof = signWalletProof(key.privateKey, PROOF_TYPES.request, {
      aud: metadata.iss,
      iat: Math.floor(Date.now() / 1000),
      nonce,
      claims,
      ...(email === undefined ? {} : { email }),
      delivery_jwk: (await generateDeliveryKey()).publicJwk,
    });
    return { nonce, proof };
  }

  async function channelAuthBody(key: WalletKey) {
    const channel = walletChannel(await thumbprintOf(publicJwkOf(key.privateKey)));
    const socketId = "1234.5678";
    const proof = signWalletProof(key.privateKey, PROOF_TYPES.channel, {
      aud: metadata.iss,
      iat: Math.floor(Date.now() / 1000),
      socket_id: socketId,
      channel,
    });
    return { socket_id: socketId, channel_name: channel, proof };
  }

  async function pendingRequest(): Promise<AdminRequestView | undefined> {
    const list = await request<{ requests: AdminRequestView[] }>(`${node.url}/api/attestor/admin/requests`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    expect(list.status).toBe(200);
    return list.body.requests.find((r) => r.id === waiting.id);
  }

  beforeAll(async () => {
    redis = await startRedisProcess();
    await deployment.setUp();
    databaseProxy = await startTcpProxy(Number(new URL(TEST_POSTGRES_URL).port || 5432));
    const databaseUrl = new URL(deployment.env.DATABASE_URL!);
    databaseUrl.port = String(databaseProxy.port);
    node = await deployment.startNode("node", {
      REDIS_URL: redis.url,
      DATABASE_URL: databaseUrl.href,
      ADMIN_ADDRESSES: admin.address,
    });
    adminToken = (await logIn(node.url, admin)).redeemed.accessToken;
    member = (await logIn(node.url)).key;
    metadata = (await request<AttestorMetadata>(`${node.url}/api/attestor`)).body;
  }, 90_000);
  afterAll(() =>
    deployment.cleanup(
      () => redisConnection?.disconnect(),
      () => browsers.forEach((socket) => socket.disconnect()),
      () => databaseProxy?.close(),
      () => redis?.stop(),
    ),
  );

  it("before any outage: an issued request, and a wallet waiting for an admin", async () => {
    const { nonce, proof } = await signedRequestWithNonce(member, ["member_since"]);
    // What Redis holds for the challenge until it is used: an older snapshot would bring it back.
    const key = `${deployment.redisPrefix}kv:attestor-challenge:${nonce}`;
    usedChallenge = { key, value: (await redisClient().get(key))! };
    expect(usedChallenge.value).not.toBeNull();
    const answer = await postJson<{ request: CredentialRequestView }>(`${node.url}/api/attestor/requests`, { proof });
    expect(answer.status).toBe(201);
    issued = { id: answer.body.request.id, proof };

    let onRequested!: (request: CredentialRequestView) => void;
    const requested = new Promise<CredentialRequestView>((resolve) => (onRequested = resolve));
    const credential = requestCredential({
      endpoint: node.url,
      key: member,
      claims: ["verified_email"],
      email: "ada@example.com",
      onRequested,
    });
    credential.catch(() => {});
    const pending = await Promise.race([requested, credential.then(() => undefined)]);
    expect(pending?.status).toBe("pending");
    waiting = { id: pending!.id, credential };

    const attestors = await request<{ attestors: Array<{ id: string }> }>(`${node.url}/api/attestor/admin/attestors`, {
      headers: { authorization: `Bearer ${adminToken}` },
    });
    attestorId = attestors.body.attestors[0]!.id;
  });

  for (const mode of ["reset", "blackhole"] as const satisfies readonly CutMode[]) {
    const kind = mode === "reset" ? "stopped" : "unreachable";
    it(`the database ${kind}: what needs it answers 503 unavailable within a second; after it is back nothing was lost or is replayable`, async () => {
      const proof = await signedRequest(member, ["member_since"]);
      // A wallet's login answer writes the user too (the login writes share the deadline).
      const browser = await openBrowser(node.url);
      browsers.push(browser.socket);
      const loginAnswer = await signAnswer(member, await scan(browser.session), browser.session.matchCode);
      databaseProxy!.cut(mode);
      try {
        // No database needed: a challenge, and channel auth for the wallet's own channel.
        const challenge = await call("POST", "/api/attestor/challenges", {});
        expect(challenge.res.status).toBe(200);
        const channelAuth = await call("POST", "/api/attestor/channel-auth", await channelAuthBody(member));
        expect(channelAuth.res.status).toBe(200);

        await expectFastUnavailable("request", "POST", "/api/attestor/requests", { proof });
        await expectFastUnavailable("metadata", "GET", "/api/attestor");
        await expectFastUnavailable("admin list", "GET", "/api/attestor/admin/requests");
        await expectFastUnavailable("approve", "POST", `/api/attestor/admin/requests/${waiting.id}/approve`);
        await expectFastUnavailable("refuse", "POST", `/api/attestor/admin/requests/${waiting.id}/refuse`);
        await expectFastUnavailable("revoke", "POST", `/api/attestor/admin/requests/${issued.id}/revoke`);
        await expectFastUnavailable("attestors", "GET", "/api/attestor/admin/attestors");
        await expectFastUnavailable("distrust", "POST", `/api/attestor/admin/attestors/${attestorId}/distrust`);
        await expectFastUnavailable("rotate-key", "POST", `/api/attestor/admin/attestors/${attestorId}/rotate-key`);
        await expectFastUnavailable("status list", "GET", `/api/attestors/${attestorId}/status-list`);
        await expectFastUnavailable("login answer", "POST", "/api/auth", loginAnswer);
        // An interactive transaction waits for its connection outside any query.
        const app = await call("POST", "/api/apps", { name: "Outage", address: createWalletKey().address }, adminToken);
        expectUnavailable("create an app", app.res);
        expect(app.ms, "create an app").toBeLessThan(FAST_FAIL_MS);
      } finally {
        databaseProxy!.restore();
      }
      await waitUntilReady(node.url);

      // Nothing was decided, nothing revoked, and the proof answered 503 does not count again.
      expect(await pendingRequest()).toMatchObject({ status: "pending" });
      const list = await request<{ requests: AdminRequestView[] }>(`${node.url}/api/attestor/admin/requests`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(list.body.requests.find((r) => r.id === issued.id)).toMatchObject({ credentialStatus: "valid" });
      for (const used of [proof, issued.proof]) {
        const again = await postJson(`${node.url}/api/attestor/requests`, { proof: used });
        expect({ status: again.status, body: again.body }).toMatchObject({
          status: 401,
          body: { error: { code: "challenge_not_found" } },
        });
      }
      const status = await call("GET", `/api/attestors/${attestorId}/status-list`);
      expect(status.res.status).toBe(200);
      // The browser of the login answered 503 was told it ended; a new login works.
      await browser.states.waitForState(browser.session.sessionId, "expired");
      await logIn(node.url, member);
    });
  }

  it("a wallet that asks while the database is unreachable gets its credential once it is back (a new challenge per try)", async () => {
    let cuts = 0;
    let unavailable = 0;
    // The project's wallet. The database goes away as it takes its challenge, and comes back once
    // its request was answered 503: the request that used that challenge cannot simply be sent again.
    const received = await requestCredential({
      endpoint: node.url,
      key: member,
      claims: ["member_since"],
      fetch: async (input, init) => {
        const url = String(input);
        if (url.endsWith("/api/attestor/challenges") && cuts++ === 0) databaseProxy!.cut("blackhole");
        const response = await fetch(input, init);
        if (url.endsWith("/api/attestor/requests") && response.status === 503) {
          unavailable++;
          databaseProxy!.restore();
        }
        return response;
      },
    }).finally(() => databaseProxy!.restore());
    expect({ cuts, unavailable }).toEqual({ cuts: 2, unavailable: 1 });
    expect(received.issuer).toBe(metadata.iss);
  });

  it("a wallet that pairs as a device while the database is unreachable is paired once it is back (the same rule)", async () => {
    let cuts = 0;
    let unavailable = 0;
    const device = await pairDevice({
      endpoint: node.url,
      key: createWalletKey(),
      fetch: async (input, init) => {
        const url = String(input);
        if (url.endsWith("/api/devices/challenge") && cuts++ === 0) databaseProxy!.cut("blackhole");
        const response = await fetch(input, init);
        if (url.endsWith("/api/devices") && response.status === 503) {
          unavailable++;
          databaseProxy!.restore();
        }
        return response;
      },
    }).finally(() => databaseProxy!.restore());
    expect({ cuts, unavailable }).toEqual({ cuts: 2, unavailable: 1 });
    expect(device.id).toEqual(expect.any(String));
  });

  it("Redis killed: challenges, requests and decisions answer 503 unavailable within a second; nothing is decided", async () => {
    unsentProof = await signedRequest(member, ["member_since"]);
    await redis!.kill();

    await expectFastUnavailable("challenge", "POST", "/api/attestor/challenges", {});
    await expectFastUnavailable("request", "POST", "/api/attestor/requests", { proof: unsentProof });
    await expectFastUnavailable("approve", "POST", `/api/attestor/admin/requests/${waiting.id}/approve`);
    await expectFastUnavailable("refuse", "POST", `/api/attestor/admin/requests/${waiting.id}/refuse`);

    // No Redis needed: channel auth, the admin's list, trust, the status list.
    const channelAuth = await call("POST", "/api/attestor/channel-auth", await channelAuthBody(member));
    expect(channelAuth.res.status).toBe(200);
    expect(await pendingRequest()).toMatchObject({ status: "pending" });
    const trust = await call("POST", `/api/attestor/admin/attestors/${attestorId}/trust`, undefined, adminToken);
    expect(trust.res.status).toBe(200);
    const status = await call("GET", `/api/attestors/${attestorId}/status-list`);
    expect(status.res.status).toBe(200);
  });

  it("after Redis is back empty: no challenge from before is accepted, the approval reaches the waiting wallet, and a new request works", async () => {
    await redis!.restart();
    await waitUntilReady(node.url);
    // As if Redis had come back from a snapshot taken before the challenge was used.
    await redisClient().set(usedChallenge.key, usedChallenge.value, "PX", 60_000);

    for (const proof of [unsentProof, issued.proof]) {
      const again = await postJson(`${node.url}/api/attestor/requests`, { proof });
      expect({ status: again.status, body: again.body }).toMatchObject({
        status: 401,
        body: { error: { code: "challenge_not_found" } },
      });
    }

    const approved = await call("POST", `/api/attestor/admin/requests/${waiting.id}/approve`, undefined, adminToken);
    expect(approved.res.status).toBe(200);
    const received = await waiting.credential;
    expect(received.requestId).toBe(waiting.id);

    const fresh = await requestCredential({ endpoint: node.url, key: member, claims: ["member_since"] });
    expect(fresh.issuer).toBe(metadata.iss);

    // The outages were answered, not crashed on: no error-level log line.
    expect(node.output()).not.toMatch(/"level":50/);
  });
});
