/**
 * lib/wallet's push side (pairDevice, connectDevice) against a real server: pairing, the device's
 * socket authenticated by a signed challenge, a push opened with its context and approved with the
 * typed number, "This wasn't me", a malformed number refused before anything is sent, and an
 * unpaired device told so on its open connection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedeemResponse } from "../../lib/protocol/login";
import type { PushClosedEvent, PushRequest } from "../../lib/protocol/push";
import { WalletError, connectDevice, createWalletKey, pairDevice } from "../../lib/wallet";
import type { DeviceConnection, DeviceStatus, WalletKey } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { WAIT_MS, connectSocket, emitAck, postJson, request, StateRecorder } from "./helpers";

let app: TestApp;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  for (const cleanup of cleanups) cleanup();
  await app?.stop();
});

/** Collected items, with a bounded wait for the first (past or future) match. */
function waiter<T>() {
  const items: T[] = [];
  const waiting: Array<{ match: (t: T) => boolean; resolve: (t: T) => void }> = [];
  return {
    items,
    push(item: T) {
      items.push(item);
      for (const w of [...waiting]) {
        if (w.match(item)) {
          waiting.splice(waiting.indexOf(w), 1);
          w.resolve(item);
        }
      }
    },
    waitFor(match: (t: T) => boolean): Promise<T> {
      const seen = items.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`nothing matched; got ${JSON.stringify(items)}`)), WAIT_MS);
        waiting.push({ match, resolve: (t) => (clearTimeout(timer), resolve(t)) });
      });
    },
  };
}

async function pairedPhone(key: WalletKey = createWalletKey()) {
  const device = await pairDevice({ endpoint: app.baseUrl, key, name: "Test phone" });
  const requests = waiter<{ sessionId: string; request: PushRequest }>();
  const closed = waiter<PushClosedEvent>();
  const statuses = waiter<{ status: DeviceStatus; code?: string }>();
  const connection: DeviceConnection = connectDevice({
    endpoint: app.baseUrl,
    key,
    deviceId: device.id,
    io: { reconnection: false },
    onRequest: (push) => requests.push(push),
    onClosed: (event) => closed.push(event),
    onStatus: (status, detail) => statuses.push({ status, ...(detail.error ? { code: detail.error.code } : {}) }),
  });
  cleanups.push(() => connection.close());
  await connection.ready;
  return { key, device, connection, requests, closed, statuses };
}

async function pushTo(address: string) {
  const { socket } = await connectSocket(app.baseUrl);
  cleanups.push(() => socket.disconnect());
  const states = new StateRecorder(socket);
  const ack = (await emitAck(socket, "login:push", { address })) as unknown as {
    ok: true;
    session: { sessionId: string; matchCode: string; browserSecret: string };
  };
  expect(ack.ok).toBe(true);
  return { states, session: ack.session };
}

describe("lib/wallet push device", () => {
  it("pairs, authenticates its socket, opens a push with its context and approves it with the typed number", async () => {
    const phone = await pairedPhone();
    expect(phone.device).toMatchObject({ address: phone.key.address, name: "Test phone" });
    const browser = await pushTo(phone.key.address);
    const pushed = await phone.requests.waitFor((p) => p.sessionId === browser.session.sessionId);
    expect(pushed.request.matchMode).toBe("type");

    const opened = await phone.connection.open(pushed.sessionId);
    expect(opened.context).toMatchObject({ ip: "127.0.0.1", ipMatches: true, browser: expect.any(String) });
    await browser.states.waitForState(pushed.sessionId, "fetched");

    await expect(phone.connection.approve(opened, browser.session.matchCode)).resolves.toEqual({ state: "approved" });
    const approved = await browser.states.waitForState(pushed.sessionId, "approved");
    const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
      sessionId: pushed.sessionId,
      browserSecret: browser.session.browserSecret,
      code: approved.code,
    });
    expect(redeemed.body.user.address).toBe(phone.key.address);
    // The server tells every device of the address that the session ended.
    await phone.closed.waitFor((e) => e.sessionId === pushed.sessionId && e.state === "redeemed");
  });

  it('answers "This wasn\'t me": the page is denied with not_me and a security event is recorded', async () => {
    const phone = await pairedPhone();
    const browser = await pushTo(phone.key.address);
    const pushed = await phone.requests.waitFor((p) => p.sessionId === browser.session.sessionId);
    await phone.connection.open(pushed.sessionId);
    await expect(phone.connection.deny(pushed.sessionId, { notMe: true })).resolves.toEqual({ state: "denied" });
    const denied = await browser.states.waitForState(pushed.sessionId, "denied");
    expect(denied.reason).toBe("not_me");
    const events = await app.ctx.db.securityEvent.findMany({ where: { deviceId: phone.device.id } });
    expect(events.map((e) => [e.kind, e.sessionId])).toEqual([["push_not_me", pushed.sessionId]]);
  });

  it("refuses a number that is not two digits before sending anything, and a wrong one ends the session", async () => {
    const phone = await pairedPhone();
    const browser = await pushTo(phone.key.address);
    const pushed = await phone.requests.waitFor((p) => p.sessionId === browser.session.sessionId);
    const opened = await phone.connection.open(pushed.sessionId);
    await expect(phone.connection.approve(opened, "7")).rejects.toMatchObject({ code: "invalid_match_code" });
    expect(browser.states.states(pushed.sessionId)).toEqual(["fetched"]);
    const wrong = browser.session.matchCode === "42" ? "43" : "42";
    await expect(phone.connection.approve(opened, wrong)).rejects.toMatchObject({ code: "wrong_match_code" });
    const denied = await browser.states.waitForState(pushed.sessionId, "denied");
    expect(denied.reason).toBe("wrong_match_code");
  });

  it("is told it was unpaired: the open connection ends with status unpaired", async () => {
    const phone = await pairedPhone();
    // The user signs in (here by a push the device approves) and unpairs it from the dashboard's API.
    const browser = await pushTo(phone.key.address);
    const pushed = await phone.requests.waitFor((p) => p.sessionId === browser.session.sessionId);
    await phone.connection.approve(await phone.connection.open(pushed.sessionId), browser.session.matchCode);
    const approved = await browser.states.waitForState(pushed.sessionId, "approved");
    const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
      sessionId: pushed.sessionId,
      browserSecret: browser.session.browserSecret,
      code: approved.code,
    });
    const unpaired = await request(`${app.baseUrl}/api/devices/${phone.device.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${redeemed.body.accessToken}` },
    });
    expect(unpaired.status).toBe(200);
    const final = await phone.statuses.waitFor((s) => s.status === "unpaired");
    expect(final.code).toBe("device_not_found");
  });

  it("stops for good, without retrying, as another key's device", async () => {
    const owner = await pairedPhone();
    const statuses: DeviceStatus[] = [];
    const connection = connectDevice({
      endpoint: app.baseUrl,
      key: createWalletKey(),
      deviceId: owner.device.id,
      io: { reconnection: false },
      onStatus: (status) => statuses.push(status),
    });
    cleanups.push(() => connection.close());
    // The challenge names the owner's address: this key refuses to sign it.
    await expect(connection.ready).rejects.toMatchObject({ code: "invalid_response" });
    expect(statuses).toEqual(["connecting", "unpaired"]);
  });

  it("rejects ready for a device id that was never paired", async () => {
    const key = createWalletKey();
    const connection = connectDevice({ endpoint: app.baseUrl, key, deviceId: "nope", io: { reconnection: false } });
    cleanups.push(() => connection.close());
    const error = await connection.ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WalletError);
    expect((error as WalletError).code).toBe("device_not_found");
  });

  it("reads a push in PUSH_MATCH_MODE=choose with its three choices, and approves with the one the page shows", async () => {
    const chooseApp = await startTestApp({ PUSH_MATCH_MODE: "choose" });
    try {
      const key = createWalletKey();
      const device = await pairDevice({ endpoint: chooseApp.baseUrl, key });
      const requests: Array<{ sessionId: string; request: PushRequest }> = [];
      const connection = connectDevice({
        endpoint: chooseApp.baseUrl,
        key,
        deviceId: device.id,
        io: { reconnection: false },
        onRequest: (push) => requests.push(push),
      });
      cleanups.push(() => connection.close());
      await connection.ready;
      const { socket } = await connectSocket(chooseApp.baseUrl);
      cleanups.push(() => socket.disconnect());
      const states = new StateRecorder(socket);
      const ack = (await emitAck(socket, "login:push", { address: key.address })) as unknown as {
        session: { sessionId: string; matchCode: string };
      };
      const opened = await connection.open(ack.session.sessionId);
      expect(opened.matchMode).toBe("choose");
      expect(opened.matchChoices).toHaveLength(3);
      expect(opened.matchChoices).toContain(ack.session.matchCode);
      await connection.approve(opened, ack.session.matchCode);
      await states.waitForState(ack.session.sessionId, "approved");
    } finally {
      await chooseApp.stop();
    }
  });
});
