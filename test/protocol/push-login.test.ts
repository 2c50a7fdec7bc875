/**
 * Push login (docs/protocol.md section 5) against real servers, on the memory and the Redis
 * stores: pairing, the device's socket, each state and transition, number matching,
 * supersession, cancel reaching the phone, caps, "This wasn't me" (mute and security event),
 * an unpaired device refused, and the same answer for unknown addresses.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ChallengeView, DeviceView, PushRequest } from "../../lib/protocol/push";
import type { LoginStateEvent, RedeemResponse } from "../../lib/protocol/login";
import { createPushApproval, createWalletKey, signPairingChallenge } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { TEST_REDIS_URL } from "../support/services";
import { emitAck, logIn, postJson, request } from "./helpers";
import { createPushClients } from "./push-helpers";

for (const kind of ["memory", "redis"] as const) {
  describe(`push login (${kind} stores)`, () => {
    let app: TestApp;
    let domain: string;
    const clients = createPushClients(() => app.baseUrl);
    const { connect, pair, connectDevice, pushFrom, startedPush } = clients;

    beforeAll(async () => {
      app = await startTestApp({
        ...(kind === "redis" ? { REDIS_URL: TEST_REDIS_URL } : {}),
        PUSH_CAP_PER_10_MIN: "3",
        PUSH_CAP_PER_HOUR: "10",
      });
      domain = new URL(app.baseUrl).host;
    });
    afterAll(async () => {
      clients.closeAll();
      await app?.stop();
    });

    it("pairs with a signed challenge, once per challenge, and refuses a wrong signature", async () => {
      const key = createWalletKey();
      const challenge = await postJson<ChallengeView>(`${app.baseUrl}/api/devices/challenge`, {
        address: key.address.toLowerCase(),
      });
      expect(challenge.body.message.split("\n")[1]).toBe(key.address);
      const signed = await signPairingChallenge(key, challenge.body, domain);
      const first = await postJson<{ device: DeviceView }>(`${app.baseUrl}/api/devices`, { ...signed, name: "Phone" });
      expect(first.status).toBe(201);
      expect(first.body.device).toMatchObject({ address: key.address, name: "Phone", lastSeenAt: null });
      const again = await postJson(`${app.baseUrl}/api/devices`, signed);
      expect(again.status).toBe(401);
      expect(again.body).toMatchObject({ error: { code: "challenge_not_found" } });

      const other = await postJson<ChallengeView>(`${app.baseUrl}/api/devices/challenge`, { address: key.address });
      const forged = {
        challengeId: other.body.challengeId,
        signature: await createWalletKey().signMessage(other.body.message),
      };
      const refused = await postJson(`${app.baseUrl}/api/devices`, forged);
      expect(refused.body).toMatchObject({ error: { code: "invalid_signature" } });
      const bad = await postJson(`${app.baseUrl}/api/devices/challenge`, { address: "0x1234" });
      expect(bad.status).toBe(400);
    });

    it("runs a push login: request, fetched, typed number, approved, redeemed", async () => {
      const key = createWalletKey();
      const device = await pair(key);
      const phone = await connectDevice(key, device);
      const browser = await startedPush(key.address);
      // An address nobody paired (or knows) gets the same answer.
      const stranger = await startedPush(createWalletKey().address);
      for (const ack of [browser.ack, stranger.ack] as unknown as Array<{ session: object }>) {
        expect(Object.keys(ack).sort()).toEqual(["ok", "session"]);
        expect(Object.keys(ack.session).sort()).toEqual(
          ["browserSecret", "expiresAt", "matchCode", "sessionId", "state"].sort(),
        );
      }
      const pushed = await phone.requests.waitFor((r) => r.sessionId === browser.session.sessionId);
      expect(pushed.request).toMatchObject({ address: key.address, matchMode: "type", domain });
      const opened = await emitAck(phone.socket, "push:open", { sessionId: browser.session.sessionId });
      expect(opened.ok).toBe(true);
      const pushRequest = (opened as unknown as { request: PushRequest }).request;
      expect(pushRequest.context).toMatchObject({ ip: "127.0.0.1", ipMatches: true });
      await browser.states.waitForState(browser.session.sessionId, "fetched");
      const polled = await request(`${app.baseUrl}/api/login/sessions/${browser.session.sessionId}`, {
        headers: { "x-browser-secret": browser.session.browserSecret },
      });
      expect(polled.body).toMatchObject({ state: "fetched" });
      // Not a QR session.
      const qrRead = await request(`${app.baseUrl}/api/login/requests/${browser.session.sessionId}`);
      expect(qrRead.status).toBe(404);

      const approval = await createPushApproval({ key, request: pushRequest, matchCode: browser.session.matchCode });
      const approved = await emitAck(phone.socket, "push:approve", approval);
      expect(approved).toEqual({ ok: true, state: "approved" });
      const event: LoginStateEvent = await browser.states.waitForState(browser.session.sessionId, "approved");
      const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
        sessionId: browser.session.sessionId,
        browserSecret: browser.session.browserSecret,
        code: event.code,
      });
      expect(redeemed.status).toBe(200);
      expect(redeemed.body.user.address).toBe(key.address);
      // The login event says how the browser asked.
      const events = await app.ctx.db.loginEvent.findMany({ where: { userId: redeemed.body.user.id } });
      expect(events.map((e) => e.method)).toEqual(["push"]);
    });

    it("ends the session on a wrong number, and refuses another key's signature", async () => {
      const key = createWalletKey();
      const phone = await connectDevice(key, await pair(key));
      const browser = await startedPush(key.address);
      const { request } = await phone.requests.waitFor((r) => r.sessionId === browser.session.sessionId);
      const wrong = browser.session.matchCode === "42" ? "43" : "42";
      const answer = await emitAck(
        phone.socket,
        "push:approve",
        await createPushApproval({ key, request, matchCode: wrong }),
      );
      expect(answer).toMatchObject({ ok: false, error: { code: "wrong_match_code" } });
      await browser.states.waitForState(browser.session.sessionId, "denied");
      expect(browser.states.events.at(-1)).toMatchObject({ reason: "wrong_match_code" });
    });

    it("supersedes an older push, tells the older browser and the phone; a cancel reaches the phone", async () => {
      const key = createWalletKey();
      const phone = await connectDevice(key, await pair(key));
      const first = await startedPush(key.address);
      await phone.requests.waitFor((r) => r.sessionId === first.session.sessionId);
      const second = await startedPush(key.address);
      const suspended = await first.states.waitForState(first.session.sessionId, "suspended");
      expect(suspended.reason).toBe("superseded");
      await phone.closed.waitFor((e) => e.sessionId === first.session.sessionId && e.state === "suspended");
      const cancel = await emitAck(second.socket, "login:cancel", {
        sessionId: second.session.sessionId,
        browserSecret: second.session.browserSecret,
      });
      expect(cancel).toEqual({ ok: true });
      await phone.closed.waitFor((e) => e.sessionId === second.session.sessionId && e.state === "cancelled");
      const late = await emitAck(phone.socket, "push:open", { sessionId: second.session.sessionId });
      expect(late).toMatchObject({ ok: false, error: { code: "session_closed" } });
    });

    it("caps pushes per address, known or not, with the same answer", async () => {
      const unknown = createWalletKey().address;
      const acks = [];
      for (let i = 0; i < 4; i++) acks.push((await pushFrom(unknown)).ack);
      expect(acks.slice(0, 3).every((a) => a.ok)).toBe(true);
      expect(acks[3]).toMatchObject({ ok: false, error: { code: "rate_limited" } });
      const bad = await pushFrom("0xnot-an-address");
      expect(bad.ack).toMatchObject({ ok: false, error: { code: "invalid_request" } });
    });

    it("'This wasn't me' denies, mutes the device, and records a security event", async () => {
      const key = createWalletKey();
      const { redeemed } = await logIn(app.baseUrl, key);
      const muted = await pair(key, "Muted");
      const other = await pair(key, "Other");
      const phone = await connectDevice(key, muted);
      const second = await connectDevice(key, other);
      const browser = await startedPush(key.address);
      await phone.requests.waitFor((r) => r.sessionId === browser.session.sessionId);
      const denied = await emitAck(phone.socket, "push:deny", { sessionId: browser.session.sessionId, notMe: true });
      expect(denied).toEqual({ ok: true, state: "denied" });
      const ended = await browser.states.waitForState(browser.session.sessionId, "denied");
      expect(ended.reason).toBe("not_me");

      const next = await startedPush(key.address);
      await second.requests.waitFor((r) => r.sessionId === next.session.sessionId);
      // Fence: the muted device's socket answers after anything sent to it with the other's push.
      await emitAck(phone.socket, "push:open", { sessionId: "AAAAAAAAAAAAAAAAAAAAAA" });
      expect(phone.requests.items.map((r) => r.sessionId)).not.toContain(next.session.sessionId);

      const auth = { authorization: `Bearer ${redeemed.accessToken}` };
      const events = await request<{ events: Array<{ kind: string; deviceId: string }> }>(
        `${app.baseUrl}/api/security-events`,
        { headers: auth },
      );
      expect(events.status).toBe(200);
      expect(events.body.events[0]).toMatchObject({ kind: "push_not_me", deviceId: muted.id });
    });

    it("lists, renames and unpairs devices; an unpaired device is disconnected and refused", async () => {
      const key = createWalletKey();
      const { redeemed } = await logIn(app.baseUrl, key);
      const auth = { authorization: `Bearer ${redeemed.accessToken}` };
      const device = await pair(key);
      const phone = await connectDevice(key, device);
      const listed = await request<{ devices: DeviceView[] }>(`${app.baseUrl}/api/devices`, { headers: auth });
      expect(listed.body.devices.map((d) => d.id)).toEqual([device.id]);
      expect(listed.body.devices[0]?.lastSeenAt).not.toBeNull();
      const renamed = await request<{ device: DeviceView }>(`${app.baseUrl}/api/devices/${device.id}`, {
        method: "PATCH",
        headers: { ...auth, "content-type": "application/json" },
        body: JSON.stringify({ name: "Work phone" }),
      });
      expect(renamed.body.device.name).toBe("Work phone");
      const someoneElse = await logIn(app.baseUrl);
      const foreign = await request(`${app.baseUrl}/api/devices/${device.id}`, {
        method: "DELETE",
        headers: { authorization: `Bearer ${someoneElse.redeemed.accessToken}` },
      });
      expect(foreign.status).toBe(404);

      const gone = new Promise<void>((resolve) => phone.socket.once("disconnect", () => resolve()));
      const unpaired = await request(`${app.baseUrl}/api/devices/${device.id}`, { method: "DELETE", headers: auth });
      expect(unpaired.status).toBe(200);
      await gone;
      const again = await connect("device");
      const refused = await emitAck(again, "device:challenge", { deviceId: device.id });
      expect(refused).toMatchObject({ ok: false, error: { code: "device_not_found" } });
      const noToken = await request(`${app.baseUrl}/api/devices`);
      expect(noToken.status).toBe(401);
      const notDevice = await emitAck(again, "push:open", { sessionId: "AAAAAAAAAAAAAAAAAAAAAA" });
      expect(notDevice).toMatchObject({ ok: false, error: { code: "device_not_authenticated" } });
    });
  });
}
