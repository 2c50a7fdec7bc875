/**
 * The happy path of docs/protocol.md section 1 against a real server: socket, wallet,
 * redeem, tokens (verified through the JWKS like another service would), refresh
 * rotation with reuse detection, logout; many answers racing on one session (every
 * transition is one compare-and-set: one winner, one outcome pushed, one login
 * written); the polling fallback; and the browser login client end to end.
 */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from "jose";
import { getAddress } from "ethers";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AuthBody, LoginRequest, MeResponse, RedeemResponse } from "../../lib/protocol/login";
import { approveLogin, createWalletKey, fetchLoginRequest } from "../../lib/wallet";
import { createLoginClient } from "../../lib/client/login-client";
import { startTestApp, type TestApp } from "../support/start-test-app";
import type { BrowserSocket, HttpResult } from "./helpers";
import {
  WAIT_MS,
  connectSocket,
  expectError,
  logIn,
  openBrowser,
  postAuth,
  postJson,
  refreshCookieOf,
  request,
  roundTrip,
  scan,
  signAnswer,
  startLogin,
  StateRecorder,
  wrongMatchCode,
} from "./helpers";

const RACERS = 100;
let app: TestApp;
const opened: BrowserSocket[] = [];

beforeAll(async () => {
  app = await startTestApp();
});
afterEach(() => {
  for (const socket of opened.splice(0)) socket.disconnect();
});
afterAll(async () => {
  await app?.stop();
});

describe("QR login, end to end", () => {
  it("walks start -> scan -> approve -> redeem -> me -> refresh -> reuse -> logout", async () => {
    const { baseUrl } = app;
    const key = createWalletKey();

    // Browser: connect and start.
    const { socket, socketId } = await connectSocket(baseUrl);
    try {
      expect(socketId).toMatch(/^\d+\.\d+$/);
      const states = new StateRecorder(socket);
      const session = await startLogin(socket);
      const requestUri = `${baseUrl}/api/login/requests/${session.sessionId}`;
      expect(session).toEqual({
        sessionId: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
        requestUri,
        qr: requestUri,
        state: "pending",
        matchCode: expect.stringMatching(/^[1-9][0-9]$/),
        browserSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
        expiresAt: expect.any(String),
      });
      const expiresAt = Date.parse(session.expiresAt);
      expect(new Date(expiresAt).toISOString()).toBe(session.expiresAt);
      expect(expiresAt).toBeGreaterThan(Date.now());

      // Wallet: GET the request behind the QR.
      const got = await request<Record<string, unknown>>(session.qr);
      expect(got.status).toBe(200);
      const req = got.body;
      expect(Object.keys(req).sort()).toEqual(
        [
          "appName",
          "chainId",
          "domain",
          "expirationTime",
          "issuedAt",
          "matchChoices",
          "matchMode",
          "nonce",
          "requestId",
          "requiredClaims",
          "responseUri",
          "sessionId",
          "statement",
          "uri",
          "version",
        ].sort(),
      );
      expect(req).toMatchObject({
        sessionId: session.sessionId,
        domain: new URL(baseUrl).host,
        uri: baseUrl,
        version: "1",
        chainId: 1,
        requestId: session.sessionId,
        responseUri: `${baseUrl}/api/auth`,
        requiredClaims: [],
        statement: `Sign in to ${String(req.appName)}`,
        expirationTime: session.expiresAt,
      });
      expect(req.nonce).toMatch(/^[A-Za-z0-9]{16,}$/); // >= 96 bits
      expect(Number.isNaN(Date.parse(String(req.issuedAt)))).toBe(false);
      const choices = req.matchChoices as string[];
      expect(choices).toHaveLength(3);
      expect(new Set(choices).size).toBe(3);
      expect(choices).toContain(session.matchCode);
      for (const c of choices) expect(c).toMatch(/^[1-9][0-9]$/);

      await states.waitForState(session.sessionId, "scanned");

      // Wallet: answer.
      const request2 = await fetchLoginRequest(session.qr); // a second read stays scanned
      const answer = await postAuth(baseUrl, await signAnswer(key, request2, session.matchCode));
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ ok: true, state: "approved" });

      const approved = await states.waitForState(session.sessionId, "approved");
      expect(approved.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(states.states(session.sessionId)).toEqual(["scanned", "approved"]);

      // Browser: redeem.
      const redeemed = await postJson<RedeemResponse>(`${baseUrl}/api/auth/redeem`, {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
        code: approved.code,
      });
      expect(redeemed.status).toBe(200);
      expect(redeemed.body).toEqual({
        accessToken: expect.any(String),
        tokenType: "Bearer",
        expiresIn: expect.any(Number),
        user: { id: expect.any(String), address: key.address, claims: {} },
      });
      expect(redeemed.body.user.address).toBe(getAddress(redeemed.body.user.address));
      expect(redeemed.body.expiresIn).toBeGreaterThan(0);
      expect(redeemed.body.expiresIn).toBeLessThanOrEqual(900);
      const cookie = refreshCookieOf(redeemed);
      expect(cookie).toBeDefined();
      const attributes = cookie!.header.split(";").map((a) => a.trim().toLowerCase());
      expect(attributes).toContain("httponly");
      expect(attributes).toContain("samesite=lax");
      expect(attributes).toContain("path=/api/auth");
      expect(attributes).not.toContain("secure"); // http in tests
      expect(cookie!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);

      // The code is single use.
      const again = await postJson(`${baseUrl}/api/auth/redeem`, {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
        code: approved.code,
      });
      expectError(again, 401, "invalid_code");

      // The browser hears of the redeem too; then nothing else.
      await states.waitForState(session.sessionId, "redeemed");

      // Me.
      const me = await request<MeResponse>(`${baseUrl}/api/me`, {
        headers: { authorization: `Bearer ${redeemed.body.accessToken}` },
      });
      expect(me.status).toBe(200);
      expect(me.body.user).toEqual({
        id: redeemed.body.user.id,
        address: key.address,
        claims: {},
        createdAt: expect.any(String),
        lastLoginAt: expect.any(String),
      });
      expect(Number.isNaN(Date.parse(me.body.user.createdAt))).toBe(false);
      expect(Number.isNaN(Date.parse(me.body.user.lastLoginAt ?? ""))).toBe(false);

      // Refresh rotates.
      const refreshed = await request<RedeemResponse>(`${baseUrl}/api/auth/refresh`, {
        method: "POST",
        headers: { cookie: cookie!.pair },
      });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body).toMatchObject({ tokenType: "Bearer", accessToken: expect.any(String) });
      expect(refreshed.body.accessToken).not.toBe(redeemed.body.accessToken);
      const cookie2 = refreshCookieOf(refreshed);
      expect(cookie2).toBeDefined();
      expect(cookie2!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(cookie2!.value).not.toBe(cookie!.value);
      const me2 = await request(`${baseUrl}/api/me`, {
        headers: { authorization: `Bearer ${refreshed.body.accessToken}` },
      });
      expect(me2.status).toBe(200);

      // The rotated-out cookie: 401, and the whole family is gone.
      const reused = await request(`${baseUrl}/api/auth/refresh`, {
        method: "POST",
        headers: { cookie: cookie!.pair },
      });
      expectError(reused, 401, "invalid_token");
      const afterReuse = await request(`${baseUrl}/api/auth/refresh`, {
        method: "POST",
        headers: { cookie: cookie2!.pair },
      });
      expectError(afterReuse, 401, "invalid_token");
    } finally {
      socket.disconnect();
    }
  });

  it("logout answers 204, clears the cookie and revokes the refresh family", async () => {
    const { baseUrl } = app;
    const { cookie } = await logIn(baseUrl);
    const out = await request(`${baseUrl}/api/auth/logout`, { method: "POST", headers: { cookie: cookie.pair } });
    expect(out.status).toBe(204);
    expect(out.text).toBe("");
    const cleared = refreshCookieOf(out);
    expect(cleared).toBeDefined();
    expect(cleared!.value).toBe("");
    expect(cleared!.header.toLowerCase()).toMatch(/max-age=0|expires=thu, 01 jan 1970/);
    expect(cleared!.header.toLowerCase()).toContain("path=/api/auth");
    const refresh = await request(`${baseUrl}/api/auth/refresh`, { method: "POST", headers: { cookie: cookie.pair } });
    expectError(refresh, 401, "invalid_token");

    // Without a cookie there is nothing to revoke; it still answers 204 and clears.
    const bare = await request(`${baseUrl}/api/auth/logout`, { method: "POST" });
    expect(bare.status).toBe(204);
    expect(refreshCookieOf(bare)?.value).toBe("");
  });

  it("signs access tokens that verify against /.well-known/jwks.json", async () => {
    const { baseUrl } = app;
    const { redeemed, key } = await logIn(baseUrl);
    const jwksRes = await request<{ keys: Array<Record<string, unknown>> }>(`${baseUrl}/.well-known/jwks.json`);
    expect(jwksRes.status).toBe(200);
    expect(jwksRes.body.keys.length).toBeGreaterThan(0);
    for (const k of jwksRes.body.keys) expect(k).not.toHaveProperty("d");

    const header = decodeProtectedHeader(redeemed.accessToken);
    expect(header.typ).toBe("at+jwt");
    expect(["ES256", "EdDSA"]).toContain(header.alg);
    expect(jwksRes.body.keys.map((k) => k.kid)).toContain(header.kid);

    const { payload } = await jwtVerify(redeemed.accessToken, createLocalJWKSet(jwksRes.body as never), {
      issuer: baseUrl,
      audience: baseUrl,
      typ: "at+jwt",
    });
    expect(payload).toMatchObject({ sub: redeemed.user.id, address: key.address });
    expect(payload.jti).toEqual(expect.any(String));
    expect(payload.iat).toEqual(expect.any(Number));
    expect(payload.exp).toEqual(expect.any(Number));
    expect(payload.exp! - payload.iat!).toBeGreaterThan(0);
    expect(payload.exp! - payload.iat!).toBeLessThanOrEqual(900);
    expect(redeemed.expiresIn).toBe(payload.exp! - payload.iat!);
  });

  it("logs the same address in again as the same user, with a later lastLoginAt", async () => {
    const { baseUrl } = app;
    const key = createWalletKey();
    const first = await logIn(baseUrl, key);
    const second = await logIn(baseUrl, key);
    expect(second.redeemed.user.id).toBe(first.redeemed.user.id);
    expect(await app.ctx.db.loginEvent.count({ where: { userId: first.redeemed.user.id } })).toBe(2);
  });
});

describe("polling fallback", () => {
  it("answers GET /api/login/sessions/{id} with the browser secret, code only once approved", async () => {
    const { baseUrl } = app;
    const { socket } = await connectSocket(baseUrl);
    const states = new StateRecorder(socket);
    try {
      const session = await startLogin(socket);
      const url = `${baseUrl}/api/login/sessions/${session.sessionId}`;
      const poll = () =>
        request<Record<string, unknown>>(url, { headers: { "x-browser-secret": session.browserSecret } });

      const pending = await poll();
      expect(pending.status).toBe(200);
      expect(pending.body).toEqual({ sessionId: session.sessionId, state: "pending", expiresAt: session.expiresAt });

      const req = await scan(session);
      expect((await poll()).body).toEqual({
        sessionId: session.sessionId,
        state: "scanned",
        expiresAt: session.expiresAt,
      });

      expect((await postAuth(baseUrl, await signAnswer(createWalletKey(), req, session.matchCode))).status).toBe(200);
      const approved = await states.waitForState(session.sessionId, "approved");
      const polled = await poll();
      expect(polled.status).toBe(200);
      expect(polled.body).toEqual({
        sessionId: session.sessionId,
        state: "approved",
        expiresAt: session.expiresAt,
        code: approved.code,
      });

      // A wrong secret and an unknown id are answered alike.
      const wrongSecret = await request(url, { headers: { "x-browser-secret": "A".repeat(43) } });
      const unknownId = await request(`${baseUrl}/api/login/sessions/${"A".repeat(22)}`, {
        headers: { "x-browser-secret": session.browserSecret },
      });
      const noSecret = await request(url);
      for (const res of [wrongSecret, unknownId, noSecret]) expectError(res, 404, "session_not_found");
      expect(wrongSecret.text).toBe(unknownId.text);
      expect(noSecret.text).toBe(unknownId.text);

      // The polling client redeems like the socket one.
      const redeemed = await postJson(`${baseUrl}/api/auth/redeem`, {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
        code: polled.body.code,
      });
      expect(redeemed.status).toBe(200);
      const after = await poll();
      expect(after.body).toMatchObject({ state: "redeemed" });
      expect(after.body).not.toHaveProperty("code");
    } finally {
      socket.disconnect();
    }
  });
});

describe("login client (lib/client/login-client.ts)", () => {
  it("start -> wallet approves -> waitForState approved -> redeem", async () => {
    const { baseUrl } = app;
    const client = createLoginClient({ endpoint: baseUrl, io: { reconnection: false, forceNew: true } });
    try {
      const seen: string[] = [];
      client.onState((e) => seen.push(e.state));
      const session = await client.start();
      expect(session.qr).toBe(`${baseUrl}/api/login/requests/${session.sessionId}`);

      const key = createWalletKey();
      const approval = client.waitForState(["approved"], { timeoutMs: WAIT_MS });
      const req = await fetchLoginRequest(session.qr);
      await expect(approveLogin({ key, request: req, matchCode: session.matchCode })).resolves.toEqual({
        ok: true,
        state: "approved",
      });
      const approved = await approval;
      expect(approved).toMatchObject({ sessionId: session.sessionId, state: "approved", code: expect.any(String) });

      const tokens = await client.redeem();
      expect(tokens).toMatchObject({ tokenType: "Bearer", user: { address: key.address } });
      expect(client.getState()?.state).toBe("redeemed");
      expect(seen).toEqual(["scanned", "approved", "redeemed"]);

      const me = await request(`${baseUrl}/api/me`, { headers: { authorization: `Bearer ${tokens.accessToken}` } });
      expect(me.status).toBe(200);
    } finally {
      client.close();
    }
  });

  it("rejects waitForState when the wallet denies", async () => {
    const { baseUrl } = app;
    const client = createLoginClient({ endpoint: baseUrl, io: { reconnection: false, forceNew: true } });
    try {
      const session = await client.start();
      const waiting = expect(client.waitForState(["approved"], { timeoutMs: WAIT_MS })).rejects.toMatchObject({
        code: "user_denied",
        event: { state: "denied" },
      });
      const req = await fetchLoginRequest(session.qr);
      const denied = await postJson(`${baseUrl}/api/auth/deny`, { sessionId: req.sessionId });
      expect(denied.status).toBe(200);
      await waiting;
    } finally {
      client.close();
    }
  });
});

function codeOf(res: HttpResult): string | undefined {
  return (res.body as { error?: { code?: string } } | undefined)?.error?.code;
}

/** Starts and scans a login, signs every answer first, then posts them all at once. */
async function race(buildBodies: (req: LoginRequest, matchCode: string) => Promise<AuthBody[]>) {
  const browser = await openBrowser(app.baseUrl);
  opened.push(browser.socket);
  const req = await scan(browser.session);
  await browser.states.waitForState(browser.session.sessionId, "scanned");
  const bodies = await buildBodies(req, browser.session.matchCode);
  const results = await Promise.all(bodies.map((body) => postAuth(app.baseUrl, body)));
  return { ...browser, results };
}

function expectOneWinner(results: HttpResult[]): number {
  const winners = results.flatMap((res, i) => (res.status === 200 ? [i] : []));
  expect(winners).toHaveLength(1);
  const winner = winners[0]!;
  expect(results[winner]!.body).toEqual({ ok: true, state: "approved" });
  const losers = results.filter((_, i) => i !== winner).map((res) => ({ status: res.status, code: codeOf(res) }));
  expect(losers).toEqual(losers.map(() => ({ status: 401, code: "session_closed" })));
  return winner;
}

describe(`${RACERS} answers racing on one session`, () => {
  it("with different keys: one 200, the rest 401 session_closed, one approved, one login written", async () => {
    const keys = Array.from({ length: RACERS }, () => createWalletKey());
    const { session, socket, states, results } = await race((req, matchCode) =>
      Promise.all(keys.map((key) => signAnswer(key, req, matchCode))),
    );
    const winner = keys[expectOneWinner(results)]!;

    const approved = await states.waitForState(session.sessionId, "approved");
    await roundTrip(socket); // any second push would have arrived by now
    expect(states.states(session.sessionId)).toEqual(["scanned", "approved"]);

    const users = await app.ctx.db.user.findMany({ where: { address: { in: keys.map((k) => k.address) } } });
    expect(users.map((u) => u.address)).toEqual([winner.address]);
    expect(await app.ctx.db.loginEvent.count({ where: { userId: users[0]!.id } })).toBe(1);

    const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
      sessionId: session.sessionId,
      browserSecret: session.browserSecret,
      code: approved.code,
    });
    expect(redeemed.status).toBe(200);
    expect(redeemed.body.user).toMatchObject({ id: users[0]!.id, address: winner.address });
  });

  it("with one key (the same signed answer sent 100 times): one 200, one approved, one login written", async () => {
    const key = createWalletKey();
    const { session, socket, states, results } = await race(async (req, matchCode) => {
      const body = await signAnswer(key, req, matchCode);
      return Array.from({ length: RACERS }, () => body);
    });
    expectOneWinner(results);
    await states.waitForState(session.sessionId, "approved");
    await roundTrip(socket);
    expect(states.states(session.sessionId)).toEqual(["scanned", "approved"]);
    const user = await app.ctx.db.user.findUnique({ where: { address: key.address } });
    expect(user).not.toBeNull();
    expect(await app.ctx.db.loginEvent.count({ where: { userId: user!.id } })).toBe(1);
  });

  it("valid answers against wrong match codes: exactly one outcome, and it matches the answers", async () => {
    const keys = Array.from({ length: RACERS }, () => createWalletKey());
    const { session, socket, states, results } = await race((req, matchCode) =>
      Promise.all(keys.map((key, i) => signAnswer(key, req, i % 2 === 0 ? matchCode : wrongMatchCode(req, matchCode)))),
    );
    const ok = results.filter((res) => res.status === 200);
    expect(ok.length).toBeLessThanOrEqual(1);
    for (const res of results) {
      if (res.status !== 200) {
        expect(res.status).toBe(401);
        expect(["session_closed", "wrong_match_code"]).toContain(codeOf(res));
      }
    }
    const outcome = await states.waitFor(
      (e) => e.sessionId === session.sessionId && (e.state === "approved" || e.state === "denied"),
    );
    await roundTrip(socket);
    expect(states.states(session.sessionId)).toEqual(["scanned", outcome.state]);
    if (ok.length === 1) {
      expect(outcome.state).toBe("approved");
    } else {
      expect(outcome).toMatchObject({ state: "denied", reason: "wrong_match_code" });
    }
    const users = await app.ctx.db.user.findMany({ where: { address: { in: keys.map((k) => k.address) } } });
    expect(users).toHaveLength(ok.length);
    const events = await app.ctx.db.loginEvent.count({ where: { userId: { in: users.map((u) => u.id) } } });
    expect(events).toBe(ok.length);
  });

  it("with concurrent scans: every wallet reads the same request and the browser hears scanned once", async () => {
    const browser = await openBrowser(app.baseUrl);
    opened.push(browser.socket);
    const reads = await Promise.all(Array.from({ length: RACERS }, () => request(browser.session.qr)));
    expect(reads.map((r) => r.status)).toEqual(reads.map(() => 200));
    const nonces = new Set(reads.map((r) => (r.body as { nonce: string }).nonce));
    expect(nonces.size).toBe(1);
    await browser.states.waitForState(browser.session.sessionId, "scanned");
    await roundTrip(browser.socket);
    expect(browser.states.states(browser.session.sessionId)).toEqual(["scanned"]);
  });
});

describe("other races", () => {
  it("answer against cancel: the browser hears exactly one outcome, consistent with both answers", async () => {
    const browser = await openBrowser(app.baseUrl);
    opened.push(browser.socket);
    const { session, socket, states } = browser;
    const req = await scan(session);
    await states.waitForState(session.sessionId, "scanned");
    const body = await signAnswer(createWalletKey(), req, session.matchCode);
    const [answer, cancel] = await Promise.all([
      postAuth(app.baseUrl, body),
      socket.timeout(WAIT_MS).emitWithAck("login:cancel", {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
      }),
    ]);
    const outcome = await states.waitFor(
      (e) => e.sessionId === session.sessionId && (e.state === "approved" || e.state === "cancelled"),
    );
    await roundTrip(socket);
    expect(states.states(session.sessionId)).toEqual(["scanned", outcome.state]);
    if (outcome.state === "approved") {
      expect(answer.status).toBe(200);
      expect(cancel).toMatchObject({ ok: false, error: { code: "session_closed" } });
    } else {
      expectError(answer, 401, "session_closed");
      expect(cancel).toEqual({ ok: true });
    }
  });

  it("concurrent redeems of one code: exactly one 200 and one refresh family", async () => {
    const browser = await openBrowser(app.baseUrl);
    opened.push(browser.socket);
    const { session, states } = browser;
    const req = await scan(session);
    expect((await postAuth(app.baseUrl, await signAnswer(createWalletKey(), req, session.matchCode))).status).toBe(200);
    const approved = await states.waitForState(session.sessionId, "approved");
    const body = { sessionId: session.sessionId, browserSecret: session.browserSecret, code: approved.code };
    const results = await Promise.all(
      Array.from({ length: 20 }, () => postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, body)),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results) if (r.status !== 200) expectError(r, 401, "invalid_code");
    const tokens = await app.ctx.db.refreshToken.findMany({ where: { userId: ok[0]!.body.user.id } });
    expect(tokens).toHaveLength(1);
  });

  it("concurrent refreshes with one cookie: exactly one 200; the reuse then ends the family", async () => {
    const { cookie } = await logIn(app.baseUrl);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        request(`${app.baseUrl}/api/auth/refresh`, { method: "POST", headers: { cookie: cookie.pair } }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    for (const r of results) if (r.status !== 200) expectError(r, 401, "invalid_token");
    // Documented in server/tokens/refresh-tokens.ts: two tabs refreshing at once look like theft.
    const successor = refreshCookieOf(ok[0]!);
    expect(successor).toBeDefined();
    const after = await request(`${app.baseUrl}/api/auth/refresh`, {
      method: "POST",
      headers: { cookie: successor!.pair },
    });
    expectError(after, 401, "invalid_token");
  });
});
