/**
 * Who may do what, how often. Rate limits, each on its own app instance with a small
 * limit: the wallet's POST per IP (429 with Retry-After), `login:start` per socket and
 * per IP (acked rate_limited); a refused request changes no session. Origins
 * (docs/protocol.md section 1, "Embedding from another origin"): Socket.IO and the
 * browser-facing endpoints accept ALLOWED_ORIGINS (by default PUBLIC_URL's origin
 * alone); the wallet-facing ones serve anybody.
 */
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RedeemResponse } from "../../lib/protocol/login";
import { createWalletKey } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import type { BrowserSocket } from "./helpers";
import {
  StateRecorder,
  connectSocket,
  emitAck,
  expectError,
  logIn,
  openBrowser,
  postAuth,
  postJson,
  request,
  scan,
  signAnswer,
  startLogin,
} from "./helpers";

const EVIL = "https://evil.example";
const SHOP = "https://shop.example";
let app: TestApp;
let embedded: TestApp;
let limited: TestApp;
let startsPerIp: TestApp;
const opened: BrowserSocket[] = [];

async function connect(target: TestApp) {
  const { socket } = await connectSocket(target.baseUrl);
  opened.push(socket);
  return socket;
}

const rateLimitedAck = { ok: false, error: { code: "rate_limited", message: expect.any(String) } };

beforeAll(async () => {
  [app, embedded, limited, startsPerIp] = await Promise.all([
    startTestApp(),
    startTestApp({ ALLOWED_ORIGINS: `${SHOP}, https://other.example` }),
    startTestApp({ RATE_LIMIT_AUTH_PER_IP: "5", RATE_LIMIT_LOGIN_START_PER_SOCKET: "3" }),
    startTestApp({ RATE_LIMIT_LOGIN_START_PER_IP: "4" }),
  ]);
});
afterEach(() => {
  for (const socket of opened.splice(0)) socket.disconnect();
});
afterAll(async () => {
  await Promise.all([app?.stop(), embedded?.stop(), limited?.stop(), startsPerIp?.stop()]);
});

describe("rate limits", () => {
  it("answers the 6th POST /api/auth from one IP with 429 rate_limited and Retry-After (limit 5)", async () => {
    const socket = await connect(limited);
    const session = await startLogin(socket);
    const req = await scan(session);
    const answer = await signAnswer(createWalletKey(), req, session.matchCode);

    for (let i = 0; i < 5; i++) {
      expectError(await postAuth(limited.baseUrl, { ...answer, sessionId: "A".repeat(22) }), 401, "session_not_found");
    }
    const sixth = await postAuth(limited.baseUrl, answer);
    expectError(sixth, 429, "rate_limited");
    // X-Forwarded-For is not trusted without TRUST_PROXY: it does not buy a fresh allowance.
    expectError(
      await postJson(`${limited.baseUrl}/api/auth`, answer, { "x-forwarded-for": "203.0.113.9" }),
      429,
      "rate_limited",
    );
    const retryAfter = Number(sixth.headers.get("retry-after"));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);

    // The refused answer was not looked at: the session is still waiting for the wallet.
    const polled = await request(`${limited.baseUrl}/api/login/sessions/${session.sessionId}`, {
      headers: { "x-browser-secret": session.browserSecret },
    });
    expect(polled.body).toMatchObject({ state: "scanned" });
    // The wallet's GET is not limited by it.
    expect((await request(session.qr)).status).toBe(200);
  });

  it("acks the 4th login:start on one socket with rate_limited (limit 3 per socket)", async () => {
    const socket = await connect(limited);
    for (let i = 0; i < 3; i++) expect((await startLogin(socket)).state).toBe("pending");
    expect(await emitAck(socket as unknown as Socket, "login:start", {})).toEqual(rateLimitedAck);
    expect(await emitAck(socket as unknown as Socket, "login:start", {})).toEqual(rateLimitedAck);
    // Another socket has its own allowance.
    const other = await connect(limited);
    expect((await startLogin(other)).state).toBe("pending");
  });

  it("limits login:start per IP across sockets (limit 4)", async () => {
    const sockets = await Promise.all([connect(startsPerIp), connect(startsPerIp), connect(startsPerIp)]);
    const [s1, s2, s3] = sockets as [BrowserSocket, BrowserSocket, BrowserSocket];
    for (const socket of [s1, s1, s2, s3]) expect((await startLogin(socket)).state).toBe("pending");
    expect(await emitAck(s2 as unknown as Socket, "login:start", {})).toEqual(rateLimitedAck);
    const fresh = await connect(startsPerIp);
    expect(await emitAck(fresh as unknown as Socket, "login:start", {})).toEqual(rateLimitedAck);
    const { socket: spoofing } = await connectSocket(startsPerIp.baseUrl, {
      extraHeaders: { "x-forwarded-for": "203.0.113.9" },
    });
    opened.push(spoofing);
    expect(await emitAck(spoofing as unknown as Socket, "login:start", {})).toEqual(rateLimitedAck);
    // Other events are not affected.
    expect(await emitAck(fresh as unknown as Socket, "login:resume", {})).toMatchObject({
      ok: false,
      error: { code: "invalid_request" },
    });
  });
});

async function expectSocketRefused(baseUrl: string, origin: string) {
  await expect(connectSocket(baseUrl, { extraHeaders: { origin } })).rejects.toThrow();
}

async function expectSocketAccepted(baseUrl: string, origin: string) {
  const { socket, socketId } = await connectSocket(baseUrl, { extraHeaders: { origin } });
  socket.disconnect();
  expect(socketId).toMatch(/^\d+\.\d+$/);
}

describe("with ALLOWED_ORIGINS unset (PUBLIC_URL's origin only)", () => {
  it("refuses a socket from another site and accepts one from PUBLIC_URL or without Origin", async () => {
    await expectSocketRefused(app.baseUrl, EVIL);
    await expectSocketRefused(app.baseUrl, "null");
    await expectSocketRefused(app.baseUrl, `${app.baseUrl}.evil.example`);
    await expectSocketAccepted(app.baseUrl, app.baseUrl);
    const { socket } = await connectSocket(app.baseUrl);
    socket.disconnect();
  });

  it("answers the browser-facing endpoints from another site with 403 origin_not_allowed", async () => {
    const { session, cookie } = await logIn(app.baseUrl);
    const evil = { origin: EVIL };
    expectError(
      await postJson(
        `${app.baseUrl}/api/auth/redeem`,
        { sessionId: session.sessionId, browserSecret: session.browserSecret, code: "A".repeat(43) },
        evil,
      ),
      403,
      "origin_not_allowed",
    );
    expectError(
      await request(`${app.baseUrl}/api/auth/refresh`, { method: "POST", headers: { ...evil, cookie: cookie.pair } }),
      403,
      "origin_not_allowed",
    );
    expectError(
      await request(`${app.baseUrl}/api/auth/logout`, { method: "POST", headers: { ...evil, cookie: cookie.pair } }),
      403,
      "origin_not_allowed",
    );
    expectError(
      await request(`${app.baseUrl}/api/login/sessions/${session.sessionId}`, {
        headers: { ...evil, "x-browser-secret": session.browserSecret },
      }),
      403,
      "origin_not_allowed",
    );
    // The refused refresh and logout did not spend or revoke the cookie.
    const refreshed = await request(`${app.baseUrl}/api/auth/refresh`, {
      method: "POST",
      headers: { origin: app.baseUrl, cookie: cookie.pair },
    });
    expect(refreshed.status).toBe(200);
    expect(refreshed.headers.get("access-control-allow-origin")).toBe(app.baseUrl);
    expect(refreshed.headers.get("access-control-allow-credentials")).toBe("true");
  });

  it("refuses a CORS preflight from another site and answers one from PUBLIC_URL", async () => {
    const preflight = (origin: string) =>
      request(`${app.baseUrl}/api/auth/redeem`, {
        method: "OPTIONS",
        headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "content-type" },
      });
    const refused = await preflight(EVIL);
    expect(refused.status).toBe(403);
    expect(refused.headers.get("access-control-allow-origin")).toBeNull();
    const allowed = await preflight(app.baseUrl);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(app.baseUrl);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
  });

  it("lets an allowed page rename and unpair a device: the preflight allows PATCH and DELETE", async () => {
    for (const method of ["PATCH", "DELETE"]) {
      const answer = await request(`${app.baseUrl}/api/devices/some-device`, {
        method: "OPTIONS",
        headers: {
          origin: app.baseUrl,
          "access-control-request-method": method,
          "access-control-request-headers": "authorization, content-type",
        },
      });
      expect(answer.status).toBe(204);
      expect(answer.headers.get("access-control-allow-methods")?.split(/, */)).toContain(method);
    }
  });

  it("serves the wallet-facing GET request and POST /api/auth to any origin", async () => {
    const browser = await openBrowser(app.baseUrl);
    try {
      const { session, states } = browser;
      const got = await request(session.qr, { headers: { origin: EVIL } });
      expect(got.status).toBe(200);
      expect(got.headers.get("access-control-allow-origin")).toBe("*");
      const preflight = await request(`${app.baseUrl}/api/auth`, {
        method: "OPTIONS",
        headers: { origin: EVIL, "access-control-request-method": "POST" },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get("access-control-allow-origin")).toBe("*");

      const req = await scan(session);
      const answer = await postJson(
        `${app.baseUrl}/api/auth`,
        await signAnswer(createWalletKey(), req, session.matchCode),
        {
          origin: EVIL,
        },
      );
      expect(answer.status).toBe(200);
      expect(answer.headers.get("access-control-allow-origin")).toBe("*");
      expect(answer.headers.get("access-control-allow-credentials")).toBeNull();
      const approved = await states.waitForState(session.sessionId, "approved");

      // The browser on the app's own origin redeems.
      const redeemed = await postJson<RedeemResponse>(
        `${app.baseUrl}/api/auth/redeem`,
        { sessionId: session.sessionId, browserSecret: session.browserSecret, code: approved.code },
        { origin: app.baseUrl },
      );
      expect(redeemed.status).toBe(200);
      expect(redeemed.headers.get("access-control-allow-origin")).toBe(app.baseUrl);
    } finally {
      browser.socket.disconnect();
    }
  });
});

describe("with ALLOWED_ORIGINS listing other sites", () => {
  it("accepts exactly the listed origins on sockets and browser-facing endpoints", async () => {
    await expectSocketAccepted(embedded.baseUrl, SHOP);
    await expectSocketAccepted(embedded.baseUrl, "https://other.example");
    await expectSocketRefused(embedded.baseUrl, EVIL);
    await expectSocketRefused(embedded.baseUrl, embedded.baseUrl);

    const socket: BrowserSocket = (await connectSocket(embedded.baseUrl, { extraHeaders: { origin: SHOP } })).socket;
    try {
      const states = new StateRecorder(socket);
      const session = await startLogin(socket);
      const req = await scan(session);
      expect(
        (await postAuth(embedded.baseUrl, await signAnswer(createWalletKey(), req, session.matchCode))).status,
      ).toBe(200);
      const approved = await states.waitForState(session.sessionId, "approved");
      const body = { sessionId: session.sessionId, browserSecret: session.browserSecret, code: approved.code };
      expectError(
        await postJson(`${embedded.baseUrl}/api/auth/redeem`, body, { origin: EVIL }),
        403,
        "origin_not_allowed",
      );
      const redeemed = await postJson(`${embedded.baseUrl}/api/auth/redeem`, body, { origin: SHOP });
      expect(redeemed.status).toBe(200);
      expect(redeemed.headers.get("access-control-allow-origin")).toBe(SHOP);
    } finally {
      socket.disconnect();
    }
  });
});
