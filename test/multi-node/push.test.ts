/**
 * Push login across two nodes (docs/protocol.md section 5): production-ish nodes (separate
 * processes) on PostgreSQL and Redis, the page on node A, the paired device's socket on node B.
 * A push reaches the phone, its open is heard by the page as `fetched`, the approval as
 * `approved`, and the page redeems on its node; a push that a newer one supersedes, and one the
 * page cancels, reach the phone as `push:closed`; a device that connects late gets the open push
 * from the shared store; unpairing on node A disconnects the device on node B at once, and it
 * can neither authenticate nor answer again.
 *
 * Requires Redis and PostgreSQL: skipped with a printed reason locally when either is missing,
 * a failure in CI.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PushRequest } from "../../lib/protocol/push";
import type { RedeemResponse } from "../../lib/protocol/login";
import { createPushApproval, createWalletKey } from "../../lib/wallet";
import { createTestDeployment, requireDeploymentServices } from "../support/deployment";
import type { ServerProcess } from "../support/server-process";
import { emitAck, logIn, postJson, request } from "../protocol/helpers";
import { createPushClients } from "../protocol/push-helpers";

const hasServices = await requireDeploymentServices({ postgres: true });

describe.skipIf(!hasServices)("push login, page on node A, device on node B", () => {
  const deployment = createTestDeployment({ label: "push_nodes", postgres: true });
  let nodeA: ServerProcess;
  let nodeB: ServerProcess;
  // The wallet pairs on node B, the device's socket is on node B, the page on node A.
  const clients = createPushClients(
    (role) => (role === "page" ? nodeA.url : nodeB.url),
    () => nodeA.url,
  );

  beforeAll(async () => {
    await deployment.setUp();
    [nodeA, nodeB] = await deployment.startNodes(["node A", "node B"], {
      RATE_LIMIT_LOGIN_START_PER_IP: "10000",
      RATE_LIMIT_LOGIN_START_PER_SOCKET: "1000",
    });
  }, 90_000);
  afterAll(() => deployment.cleanup(() => clients.closeAll()));

  it("pushes, is fetched, approved and redeemed across the nodes", async () => {
    const key = createWalletKey();
    const phone = await clients.connectDevice(key, await clients.pair(key));
    const browser = await clients.startedPush(key.address);
    const { sessionId } = browser.session;
    const pushed = await phone.requests.waitFor((r) => r.sessionId === sessionId);
    expect(pushed.request).toMatchObject({ address: key.address, domain: new URL(nodeA.url).host });

    const opened = await emitAck(phone.socket, "push:open", { sessionId });
    expect(opened.ok).toBe(true);
    await browser.states.waitForState(sessionId, "fetched");
    const pushRequest = (opened as unknown as { request: PushRequest }).request;
    const approval = await createPushApproval({ key, request: pushRequest, matchCode: browser.session.matchCode });
    expect(await emitAck(phone.socket, "push:approve", approval)).toEqual({ ok: true, state: "approved" });
    const approved = await browser.states.waitForState(sessionId, "approved");
    const redeemed = await postJson<RedeemResponse>(`${nodeA.url}/api/auth/redeem`, {
      sessionId,
      browserSecret: browser.session.browserSecret,
      code: approved.code,
    });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.user.address).toBe(key.address);
    // Redeemed on node A: the phone on node B hears the end too.
    await phone.closed.waitFor((e) => e.sessionId === sessionId && e.state === "redeemed");
  });

  it("tells the phone on node B of a supersession and a cancel on node A", async () => {
    const key = createWalletKey();
    const phone = await clients.connectDevice(key, await clients.pair(key));
    const first = await clients.startedPush(key.address);
    await phone.requests.waitFor((r) => r.sessionId === first.session.sessionId);
    const second = await clients.startedPush(key.address);
    const suspended = await first.states.waitForState(first.session.sessionId, "suspended");
    expect(suspended.reason).toBe("superseded");
    await phone.closed.waitFor((e) => e.sessionId === first.session.sessionId && e.state === "suspended");
    await phone.requests.waitFor((r) => r.sessionId === second.session.sessionId);

    const cancel = await emitAck(second.socket, "login:cancel", {
      sessionId: second.session.sessionId,
      browserSecret: second.session.browserSecret,
    });
    expect(cancel).toEqual({ ok: true });
    await phone.closed.waitFor((e) => e.sessionId === second.session.sessionId && e.state === "cancelled");
    const late = await emitAck(phone.socket, "push:open", { sessionId: second.session.sessionId });
    expect(late).toMatchObject({ ok: false, error: { code: "session_closed" } });
  });

  it("gives a device that connects to node B late the push the page on node A is waiting on", async () => {
    const key = createWalletKey();
    const device = await clients.pair(key);
    const browser = await clients.startedPush(key.address);
    const phone = await clients.connectDevice(key, device);
    await phone.requests.waitFor((r) => r.sessionId === browser.session.sessionId);
  });

  it("unpairing on node A disconnects the device on node B at once; it cannot come back", async () => {
    const key = createWalletKey();
    const { redeemed } = await logIn(nodeA.url, key);
    const device = await clients.pair(key);
    const phone = await clients.connectDevice(key, device);
    const gone = new Promise<void>((resolve) => phone.socket.once("disconnect", () => resolve()));
    const unpaired = await request(`${nodeA.url}/api/devices/${device.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${redeemed.accessToken}` },
    });
    expect(unpaired.status).toBe(200);
    await gone;
    const again = await clients.connect("device");
    const refused = await emitAck(again, "device:challenge", { deviceId: device.id });
    expect(refused).toMatchObject({ ok: false, error: { code: "device_not_found" } });
  });
});
