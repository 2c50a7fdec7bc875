/**
 * Push login while Redis is away (docs/protocol.md sections 5 and 8, "Outages"): two nodes on
 * PostgreSQL and a Redis of the test's own, which the test SIGKILLs and starts again empty.
 *
 * - While Redis is down: pairing (`POST /api/devices/challenge`, `POST /api/devices`), the
 *   page's `login:push` and the device's socket events (`device:challenge`, `device:auth`,
 *   `push:open`, `push:approve`, `push:deny`) are answered `unavailable` within a second
 *   (503 + Retry-After or the ack), never 500, never a hang.
 * - After it is back: nothing from before is accepted again (a pairing challenge, a device
 *   challenge, a signed approval of a push started before the outage), the page following that
 *   push and the phone it was pushed to (on the other node) are told it ended (`expired`,
 *   `store_reset`: `login:state` and `push:closed`), and pairing, device auth and a whole push
 *   login work.
 *
 * Requires PostgreSQL and redis-server: skipped with a printed reason locally when either is
 * missing, a failure in CI. The shared Redis is not used by the nodes.
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChallengeView } from "../../lib/protocol/push";
import type { RedeemResponse } from "../../lib/protocol/login";
import { createPushApproval, createWalletKey, signDeviceChallenge, signPairingChallenge } from "../../lib/wallet";
import { createTestDeployment, requireOutageServices, waitUntilReady } from "../support/deployment";
import { startRedisProcess, type RedisProcess } from "../support/redis-process";
import type { ServerProcess } from "../support/server-process";
import { emitAck, postJson, type HttpResult } from "../protocol/helpers";
import { createPushClients } from "../protocol/push-helpers";

/** The bound for an answer while a dependency is down. */
const FAST_FAIL_MS = 1_000;

const hasServices = await requireOutageServices("push outage suite");

/** Runs `call`, checking it was answered within FAST_FAIL_MS. */
async function quickly<T>(what: string, call: () => Promise<T>): Promise<T> {
  const started = Date.now();
  const result = await call();
  expect(Date.now() - started, what).toBeLessThan(FAST_FAIL_MS);
  return result;
}

const UNAVAILABLE_ACK = { ok: false, error: { code: "unavailable" } };

function expectUnavailable(res: HttpResult) {
  expect(res.status).toBe(503);
  expect(res.headers.get("retry-after")).toBe("1");
  expect(res.body).toMatchObject({ error: { code: "unavailable" } });
}

describe.skipIf(!hasServices)("push login while Redis is down and after it is back empty", () => {
  const deployment = createTestDeployment({ label: "push_outage", postgres: true });
  let redis: RedisProcess | undefined;
  let nodeA: ServerProcess;
  let nodeB: ServerProcess;
  // Pages on node A; the wallet pairs and the device connects on node B.
  const clients = createPushClients(
    (role) => (role === "page" ? nodeA.url : nodeB.url),
    () => nodeA.url,
  );
  const domain = () => new URL(nodeA.url).host;

  const key = createWalletKey();
  let phone: Awaited<ReturnType<typeof clients.connectDevice>>;
  let before: Awaited<ReturnType<typeof clients.startedPush>>;
  let signedApproval: Awaited<ReturnType<typeof createPushApproval>>;
  let pairingChallenge: ChallengeView;
  let challenged: Socket;
  let deviceAuth: { challengeId: string; signature: string };
  let idle: { page: Socket; device: Socket };
  let deviceId: string;

  beforeAll(async () => {
    redis = await startRedisProcess();
    await deployment.setUp();
    [nodeA, nodeB] = await deployment.startNodes(["node A", "node B"], {
      REDIS_URL: redis.url,
      RATE_LIMIT_LOGIN_START_PER_IP: "10000",
      RATE_LIMIT_LOGIN_START_PER_SOCKET: "1000",
    });
  }, 90_000);
  afterAll(() =>
    deployment.cleanup(
      () => clients.closeAll(),
      () => redis?.stop(),
    ),
  );

  it("before the outage: a paired device with an open push, a signed approval and unused challenges", async () => {
    const device = await clients.pair(key);
    deviceId = device.id;
    phone = await clients.connectDevice(key, device);
    before = await clients.startedPush(key.address);
    const { request } = await phone.requests.waitFor((r) => r.sessionId === before.session.sessionId);
    signedApproval = await createPushApproval({ key, request, matchCode: before.session.matchCode });

    const challenge = await postJson<ChallengeView>(`${nodeB.url}/api/devices/challenge`, { address: key.address });
    expect(challenge.status).toBe(200);
    pairingChallenge = challenge.body;
    challenged = await clients.connect("device");
    const deviceChallenge = (await emitAck(challenged, "device:challenge", { deviceId: device.id })) as unknown as {
      ok: true;
    } & ChallengeView;
    expect(deviceChallenge.ok).toBe(true);
    deviceAuth = await signDeviceChallenge(key, deviceChallenge, domain());
    // New sockets are refused while Redis is away (they cannot be counted): open them now.
    idle = { page: await clients.connect("page"), device: await clients.connect("device") };
  });

  it("answers pairing, login:push and every device event `unavailable` within a second", async () => {
    await redis!.kill();
    const sessionId = before.session.sessionId;

    expectUnavailable(
      await quickly("pair challenge", () =>
        postJson(`${nodeB.url}/api/devices/challenge`, { address: createWalletKey().address }),
      ),
    );
    const signedPairing = await signPairingChallenge(key, pairingChallenge, domain());
    expectUnavailable(await quickly("pair", () => postJson(`${nodeB.url}/api/devices`, signedPairing)));

    expect(await quickly("login:push", () => emitAck(idle.page, "login:push", { address: key.address }))).toMatchObject(
      UNAVAILABLE_ACK,
    );
    expect(
      await quickly("device:challenge", () => emitAck(idle.device, "device:challenge", { deviceId })),
    ).toMatchObject(UNAVAILABLE_ACK);
    expect(await quickly("device:auth", () => emitAck(challenged, "device:auth", deviceAuth))).toMatchObject(
      UNAVAILABLE_ACK,
    );
    expect(await quickly("push:open", () => emitAck(phone.socket, "push:open", { sessionId }))).toMatchObject(
      UNAVAILABLE_ACK,
    );
    expect(await quickly("push:approve", () => emitAck(phone.socket, "push:approve", signedApproval))).toMatchObject(
      UNAVAILABLE_ACK,
    );
    expect(await quickly("push:deny", () => emitAck(phone.socket, "push:deny", { sessionId }))).toMatchObject(
      UNAVAILABLE_ACK,
    );
  });

  it("after Redis is back empty: nothing from before is accepted, the page is told, and push login works", async () => {
    await redis!.restart();
    for (const node of [nodeA, nodeB]) await waitUntilReady(node.url);

    // The page that was waiting on the push hears that it is gone.
    const ended = await before.states.waitFor((e) => e.sessionId === before.session.sessionId);
    expect(ended).toMatchObject({ state: "expired", reason: "store_reset" });
    // So does the phone on node B that holds it, without answering first.
    const closed = await phone.closed.waitFor((e) => e.sessionId === before.session.sessionId);
    expect(closed).toEqual({ sessionId: before.session.sessionId, state: "expired", reason: "store_reset" });
    // The approval signed before the outage is not accepted; nor are the challenges.
    const replay = await emitAck(phone.socket, "push:approve", signedApproval);
    expect(replay).toMatchObject({ ok: false, error: { code: "session_not_found" } });
    const pairAgain = await postJson(
      `${nodeB.url}/api/devices`,
      await signPairingChallenge(key, pairingChallenge, domain()),
    );
    expect(pairAgain.status).toBe(401);
    expect(pairAgain.body).toMatchObject({ error: { code: "challenge_not_found" } });
    expect(await emitAck(challenged, "device:auth", deviceAuth)).toMatchObject({
      ok: false,
      error: { code: "challenge_not_found" },
    });

    // Pairing and device auth work again, and a push login from node A reaches both devices on node B.
    const other = await clients.connectDevice(key, await clients.pair(key, "After"));
    const browser = await clients.startedPush(key.address);
    const { sessionId, matchCode, browserSecret } = browser.session;
    await other.requests.waitFor((r) => r.sessionId === sessionId);
    const { request } = await phone.requests.waitFor((r) => r.sessionId === sessionId);
    const approval = await createPushApproval({ key, request, matchCode });
    expect(await emitAck(phone.socket, "push:approve", approval)).toEqual({ ok: true, state: "approved" });
    const approved = await browser.states.waitForState(sessionId, "approved");
    const redeemed = await postJson<RedeemResponse>(`${nodeA.url}/api/auth/redeem`, {
      sessionId,
      browserSecret,
      code: approved.code,
    });
    expect(redeemed.status).toBe(200);

    // Each node logged the outage without a stack per event and without a 500.
    for (const node of [nodeA, nodeB]) {
      expect(node.output()).not.toMatch(/Unhandled error event|socket handler failed|"level":50/);
    }
  });
});
