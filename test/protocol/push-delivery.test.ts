/**
 * What reaches a paired device (docs/protocol.md section 5.2), on the memory and the Redis
 * stores: a device that authenticates while its address's latest push is still open gets it at
 * once (and not one that has ended), and every `push:request` carries the context of issue 16
 * item 4 (app name, the page's origin, browser, OS and IP, whether that IP is the device's own,
 * and the time), `ipMatches` computed for each socket of the device.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletKey } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { TEST_REDIS_URL } from "../support/services";
import { emitAck } from "./helpers";
import { createPushClients } from "./push-helpers";

const FIREFOX_ON_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0";
const PAGE_IP = "203.0.113.7";
const NO_SESSION = "AAAAAAAAAAAAAAAAAAAAAA";

for (const kind of ["memory", "redis"] as const) {
  describe(`push delivery (${kind} stores)`, () => {
    let app: TestApp;
    const clients = createPushClients(() => app.baseUrl);
    const { pair, connectDevice, startedPush } = clients;

    beforeAll(async () => {
      app = await startTestApp({
        ...(kind === "redis" ? { REDIS_URL: TEST_REDIS_URL } : {}),
        APP_NAME: "Delivery Test",
        // Loopback is the proxy here, so a test socket can speak for another client IP.
        TRUSTED_PROXIES: "127.0.0.1",
      });
    });
    afterAll(async () => {
      clients.closeAll();
      await app?.stop();
    });

    it("gives a device that authenticates late the push that is still open, at once", async () => {
      const key = createWalletKey();
      const device = await pair(key);
      const browser = await startedPush(key.address);
      const phone = await connectDevice(key, device);
      const pushed = await phone.requests.waitFor((r) => r.sessionId === browser.session.sessionId);
      expect(pushed.request).toMatchObject({ address: key.address, sessionId: browser.session.sessionId });
      // Still pending, so it can be opened and answered from here.
      const opened = await emitAck(phone.socket, "push:open", { sessionId: browser.session.sessionId });
      expect(opened.ok).toBe(true);
      await browser.states.waitForState(browser.session.sessionId, "fetched");
      // A second socket of the device coming later still gets it (fetched is open too).
      const tablet = await connectDevice(key, device);
      await tablet.requests.waitFor((r) => r.sessionId === browser.session.sessionId);
    });

    it("gives a late device nothing once the latest push has ended", async () => {
      const key = createWalletKey();
      const device = await pair(key);
      const browser = await startedPush(key.address);
      const cancelled = await emitAck(browser.socket, "login:cancel", {
        sessionId: browser.session.sessionId,
        browserSecret: browser.session.browserSecret,
      });
      expect(cancelled).toEqual({ ok: true });
      const phone = await connectDevice(key, device);
      // Fence: anything sent after device:auth's ack arrives before this answer.
      await emitAck(phone.socket, "push:open", { sessionId: NO_SESSION });
      expect(phone.requests.items).toEqual([]);
      // The next push reaches it as usual.
      const next = await startedPush(key.address);
      await phone.requests.waitFor((r) => r.sessionId === next.session.sessionId);
    });

    it("shows the phone where the request comes from, with ipMatches for each of its sockets", async () => {
      const key = createWalletKey();
      const device = await pair(key);
      const home = await connectDevice(key, device, { "x-forwarded-for": PAGE_IP });
      const away = await connectDevice(key, device);
      const before = Date.now();
      const browser = await startedPush(key.address, {
        "user-agent": FIREFOX_ON_WINDOWS,
        origin: app.baseUrl,
        "x-forwarded-for": PAGE_IP,
      });
      const sessionId = browser.session.sessionId;
      const atHome = await home.requests.waitFor((r) => r.sessionId === sessionId);
      const context = { origin: app.baseUrl, browser: "Firefox", os: "Windows", ip: PAGE_IP };
      expect(atHome.request).toMatchObject({ appName: "Delivery Test", context: { ...context, ipMatches: true } });
      const time = Date.parse(atHome.request.context.time);
      expect(time).toBeGreaterThanOrEqual(before - 1000);
      expect(time).toBeLessThanOrEqual(Date.now());
      const elsewhere = await away.requests.waitFor((r) => r.sessionId === sessionId);
      expect(elsewhere.request.context).toEqual({ ...atHome.request.context, ipMatches: false });
      // Each socket got it once.
      await emitAck(home.socket, "push:open", { sessionId: NO_SESSION });
      await emitAck(away.socket, "push:open", { sessionId: NO_SESSION });
      expect(home.requests.items.filter((r) => r.sessionId === sessionId)).toHaveLength(1);
      expect(away.requests.items.filter((r) => r.sessionId === sessionId)).toHaveLength(1);

      // A device that comes late, and push:open, compare with the socket that asks.
      const late = await connectDevice(key, device, { "x-forwarded-for": PAGE_IP });
      const lateRequest = await late.requests.waitFor((r) => r.sessionId === sessionId);
      expect(lateRequest.request.context).toMatchObject({ ...context, ipMatches: true });
      const opened = (await emitAck(away.socket, "push:open", { sessionId })) as unknown as {
        request: { context: object };
      };
      expect(opened.request.context).toMatchObject({ ...context, ipMatches: false });
    });
  });
}
