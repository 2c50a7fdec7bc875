import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletKey } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { openBrowser, postAuth, postJson, roundTrip, scan, signAnswer } from "./helpers";

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app?.stop();
});

const roomsOf = () => app.ctx.io.of("/").adapter.rooms;

describe("login rooms", () => {
  it("hold the browser socket while the session is open and are freed once it ends", async () => {
    const browser = await openBrowser(app.baseUrl);
    try {
      const { session, states } = browser;
      const room = `login:${session.sessionId}`;
      expect(roomsOf().get(room)?.size).toBe(1);
      const req = await scan(session);
      expect((await postAuth(app.baseUrl, await signAnswer(createWalletKey(), req, session.matchCode))).status).toBe(
        200,
      );
      const approved = await states.waitForState(session.sessionId, "approved");
      expect(roomsOf().get(room)?.size).toBe(1);
      const redeemed = await postJson(`${app.baseUrl}/api/auth/redeem`, {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
        code: approved.code,
      });
      expect(redeemed.status).toBe(200);
      await states.waitForState(session.sessionId, "redeemed");
      await roundTrip(browser.socket);
      expect(roomsOf().has(room)).toBe(false);
    } finally {
      browser.socket.disconnect();
    }
  });
});
