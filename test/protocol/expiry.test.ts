/**
 * Sessions that run out (LOGIN_TTL_SECONDS=10, the shortest allowed). One test, so
 * the suite waits on real time once: the browser is pushed `expired` by the server,
 * and every later call answers session_expired.
 */
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWalletKey } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import type { BrowserSocket } from "./helpers";
import {
  emitAck,
  expectError,
  openBrowser,
  postAuth,
  postJson,
  request,
  resumeLogin,
  scan,
  signAnswer,
} from "./helpers";

const TTL_SECONDS = 10;
let app: TestApp;
const opened: BrowserSocket[] = [];

beforeAll(async () => {
  app = await startTestApp({ LOGIN_TTL_SECONDS: String(TTL_SECONDS) });
});
afterAll(async () => {
  for (const socket of opened) socket.disconnect();
  await app?.stop();
});

describe("login session expiry", () => {
  it(
    "pushes expired to the browser when the TTL runs out; later calls get session_expired",
    async () => {
      // A: never scanned. B: scanned, and the wallet has its signed answer ready.
      const a = await openBrowser(app.baseUrl);
      const b = await openBrowser(app.baseUrl);
      opened.push(a.socket, b.socket);
      const ttlMs = Date.parse(a.session.expiresAt) - Date.now();
      expect(ttlMs).toBeGreaterThan(0);
      expect(ttlMs).toBeLessThanOrEqual(TTL_SECONDS * 1000);

      const reqB = await scan(b.session);
      const answerB = await signAnswer(createWalletKey(), reqB, b.session.matchCode);
      await b.states.waitForState(b.session.sessionId, "scanned");

      const waitMs = TTL_SECONDS * 1000 + 15_000;
      const expiredA = await a.states.waitForState(a.session.sessionId, "expired", waitMs);
      const expiredB = await b.states.waitForState(b.session.sessionId, "expired", waitMs);
      expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(a.session.expiresAt));
      expect(expiredA).toEqual({ sessionId: a.session.sessionId, state: "expired", reason: "session_expired" });
      expect(expiredB).toEqual({ sessionId: b.session.sessionId, state: "expired", reason: "session_expired" });

      // The wallet, too late.
      expectError(await request(a.session.qr), 410, "session_expired");
      expectError(await request(b.session.qr), 410, "session_expired");
      expectError(await postAuth(app.baseUrl, answerB), 401, "session_expired");
      expectError(
        await postJson(`${app.baseUrl}/api/auth/deny`, { sessionId: a.session.sessionId }),
        401,
        "session_expired",
      );

      // The browser's own calls see the end too.
      expect(await resumeLogin(a.socket, a.session.sessionId, a.session.browserSecret)).toMatchObject({
        ok: true,
        session: { sessionId: a.session.sessionId, state: "expired" },
      });
      expect(
        await emitAck(a.socket as unknown as Socket, "login:cancel", {
          sessionId: a.session.sessionId,
          browserSecret: a.session.browserSecret,
        }),
      ).toMatchObject({ ok: false, error: { code: "session_expired" } });
      const polled = await request(`${app.baseUrl}/api/login/sessions/${b.session.sessionId}`, {
        headers: { "x-browser-secret": b.session.browserSecret },
      });
      expect(polled.status).toBe(200);
      expect(polled.body).toMatchObject({ sessionId: b.session.sessionId, state: "expired" });

      // Expired is an end: pushed once, never left (the refused answer above changed nothing).
      expect(a.states.states(a.session.sessionId)).toEqual(["expired"]);
      expect(b.states.states(b.session.sessionId)).toEqual(["scanned", "expired"]);
    },
    TTL_SECONDS * 1000 + 40_000,
  );
});
