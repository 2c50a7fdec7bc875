/**
 * The browser's side after approval: redeem (single use, bound to the browser
 * secret), refresh without a valid cookie, and every way a Bearer token can be bad.
 */
import { SignJWT, base64url, generateKeyPair } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { RedeemResponse } from "../../lib/protocol/login";
import { createWalletKey } from "../../lib/wallet";
import { issueAccessToken } from "../../server/tokens/access-tokens";
import { startTestApp, type TestApp } from "../support/start-test-app";
import type { BrowserSocket, HttpResult } from "./helpers";
import { expectError, logIn, openBrowser, postAuth, postJson, request, scan, signAnswer } from "./helpers";

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

/** A login approved by the wallet, not yet redeemed. */
async function approvedLogin() {
  const browser = await openBrowser(app.baseUrl);
  opened.push(browser.socket);
  const { session, states } = browser;
  const req = await scan(session);
  expect((await postAuth(app.baseUrl, await signAnswer(createWalletKey(), req, session.matchCode))).status).toBe(200);
  const approved = await states.waitForState(session.sessionId, "approved");
  const redeem = (body: Record<string, unknown>) =>
    postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
      sessionId: session.sessionId,
      browserSecret: session.browserSecret,
      code: approved.code,
      ...body,
    });
  return { session, states, code: approved.code!, redeem };
}

describe("POST /api/auth/redeem", () => {
  it("refuses a wrong browser secret with invalid_code; the right one still works", async () => {
    const login = await approvedLogin();
    expectError(await login.redeem({ browserSecret: "A".repeat(43) }), 401, "invalid_code");
    expectError(await login.redeem({ code: "A".repeat(43) }), 401, "invalid_code");
    expectError(await login.redeem({ sessionId: "A".repeat(22) }), 401, "invalid_code");
    const ok = await login.redeem({});
    expect(ok.status).toBe(200);
    expect(ok.body.tokenType).toBe("Bearer");
  });

  it("is single use: a used code is invalid_code", async () => {
    const login = await approvedLogin();
    expect((await login.redeem({})).status).toBe(200);
    expectError(await login.redeem({}), 401, "invalid_code");
  });

  it("refuses to redeem before approval", async () => {
    const browser = await openBrowser(app.baseUrl);
    opened.push(browser.socket);
    await scan(browser.session);
    const res = await postJson(`${app.baseUrl}/api/auth/redeem`, {
      sessionId: browser.session.sessionId,
      browserSecret: browser.session.browserSecret,
      code: "A".repeat(43),
    });
    expectError(res, 401, "invalid_code");
  });

  it.each<[string, unknown]>([
    ["an empty object", {}],
    ["a missing code", { sessionId: "A".repeat(22), browserSecret: "A".repeat(43) }],
    ["numbers", { sessionId: 1, browserSecret: 2, code: 3 }],
    ["an extra key", { sessionId: "A".repeat(22), browserSecret: "A".repeat(43), code: "A".repeat(43), x: 1 }],
    ["a huge code", { sessionId: "A".repeat(22), browserSecret: "A".repeat(43), code: "A".repeat(10_000) }],
    ["malformed JSON", "{oops"],
    ["a JSON string", '"code"'],
  ])("answers 400 invalid_request for %s", async (_label, body) => {
    expectError(await postJson(`${app.baseUrl}/api/auth/redeem`, body), 400, "invalid_request");
  });
});

describe("POST /api/auth/refresh", () => {
  it.each<[string, Record<string, string>]>([
    ["no cookie", {}],
    ["an empty cookie", { cookie: "wl_refresh=" }],
    ["a malformed cookie", { cookie: "wl_refresh=not-a-token" }],
    ["an unknown token", { cookie: `wl_refresh=${"A".repeat(43)}` }],
    ["another cookie only", { cookie: "other=1" }],
  ])("answers 401 invalid_token with %s", async (_label, headers) => {
    const res = await request(`${app.baseUrl}/api/auth/refresh`, { method: "POST", headers });
    expectError(res, 401, "invalid_token");
  });
});

describe("GET /api/me with a bad token", () => {
  let good: { token: string; userId: string; address: string };

  beforeAll(async () => {
    const { redeemed } = await logIn(app.baseUrl);
    good = { token: redeemed.accessToken, userId: redeemed.user.id, address: redeemed.user.address };
  });

  const baseClaims = () => ({ address: good.address });
  const now = () => Math.floor(Date.now() / 1000);

  /** Signs with the app's own key; each test changes one thing. */
  function signWithAppKey(
    build: (jwt: SignJWT) => SignJWT,
    header: Record<string, unknown> = {},
    payload: Record<string, unknown> = baseClaims(),
  ) {
    const key = app.ctx.signingKey;
    const jwt = new SignJWT(payload).setProtectedHeader({ alg: key.alg, kid: key.kid, typ: "at+jwt", ...header });
    return build(jwt).sign(key.privateKey);
  }
  const standard = (jwt: SignJWT, iat = now(), exp = iat + 300, jti: string | null = "jti-test") => {
    const claims = jwt
      .setIssuer(app.baseUrl)
      .setAudience(app.baseUrl)
      .setSubject(good.userId)
      .setIssuedAt(iat)
      .setExpirationTime(exp);
    return jti === null ? claims : claims.setJti(jti);
  };

  function expectInvalidToken(res: HttpResult) {
    expectError(res, 401, "invalid_token");
    expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
  }
  const me = (authorization?: string) =>
    request(`${app.baseUrl}/api/me`, authorization === undefined ? {} : { headers: { authorization } });

  it("accepts the good token and one signed here the same way (sanity)", async () => {
    expect((await me(`Bearer ${good.token}`)).status).toBe(200);
    expect((await me(`Bearer ${await signWithAppKey((jwt) => standard(jwt))}`)).status).toBe(200);
  });

  it("refuses a missing token", async () => {
    expectInvalidToken(await me());
  });

  it.each<[string, () => string]>([
    ["an empty Bearer", () => "Bearer "],
    ["another scheme", () => `Basic ${Buffer.from("a:b").toString("base64")}`],
    ["a token without scheme", () => good.token],
    ["garbage", () => "Bearer not.a.jwt"],
    ["two parts", () => `Bearer ${good.token.split(".").slice(0, 2).join(".")}`],
    ["a very long token", () => `Bearer ${"a".repeat(5000)}`],
  ])("refuses a malformed token: %s", async (_label, header) => {
    expectInvalidToken(await me(header()));
  });

  it("refuses a tampered token", async () => {
    const [h, p, sig] = good.token.split(".") as [string, string, string];
    const payload = JSON.parse(new TextDecoder().decode(base64url.decode(p))) as Record<string, unknown>;
    const forged = base64url.encode(JSON.stringify({ ...payload, sub: "someone-else" }));
    expectInvalidToken(await me(`Bearer ${h}.${forged}.${sig}`));
    // One flipped signature character.
    const flipped = sig.startsWith("A") ? `B${sig.slice(1)}` : `A${sig.slice(1)}`;
    expectInvalidToken(await me(`Bearer ${h}.${p}.${flipped}`));
  });

  it("refuses an alg: none token", async () => {
    const header = base64url.encode(JSON.stringify({ alg: "none", typ: "at+jwt", kid: app.ctx.signingKey.kid }));
    const [, p] = good.token.split(".") as [string, string];
    expectInvalidToken(await me(`Bearer ${header}.${p}.`));
    expectInvalidToken(await me(`Bearer ${header}.${p}`));
  });

  it("refuses an expired token", async () => {
    const expired = await signWithAppKey((jwt) => standard(jwt, now() - 600, now() - 300));
    expectInvalidToken(await me(`Bearer ${expired}`));
  });

  it("refuses a token from the app's own issuer once its life has run out", async () => {
    // Minted with the real issueAccessToken while the clock (this process's, which the
    // in-process server shares) reads 20 minutes ago: no waiting on real time.
    vi.useFakeTimers({ toFake: ["Date"] });
    let token: string;
    try {
      vi.setSystemTime(Date.now() - 20 * 60_000);
      ({ token } = await issueAccessToken(app.ctx.signingKey, {
        issuer: app.baseUrl,
        audience: app.baseUrl,
        userId: good.userId,
        address: good.address,
        ttlSeconds: 60,
      }));
    } finally {
      vi.useRealTimers();
    }
    expectInvalidToken(await me(`Bearer ${token}`));
  });

  it.each<[string, () => Promise<string>]>([
    ["another issuer", () => signWithAppKey((jwt) => standard(jwt).setIssuer("https://evil.example"))],
    ["another audience", () => signWithAppKey((jwt) => standard(jwt).setAudience("https://evil.example"))],
    ["another typ", () => signWithAppKey((jwt) => standard(jwt), { typ: "JWT" })],
    ["no kid", () => signWithAppKey((jwt) => standard(jwt), { kid: undefined })],
    ["an unknown kid", () => signWithAppKey((jwt) => standard(jwt), { kid: "nope" })],
    ["a life over 15 minutes", () => signWithAppKey((jwt) => standard(jwt, now(), now() + 3600))],
    ["no address", () => signWithAppKey((jwt) => standard(jwt), {}, {})],
    ["no jti", () => signWithAppKey((jwt) => standard(jwt, now(), now() + 300, null))],
    ["no sub", () => signWithAppKey((jwt) => standard(jwt).setSubject(""))],
    [
      "another key with the app's kid",
      async () => {
        const { privateKey } = await generateKeyPair("ES256");
        return standard(
          new SignJWT(baseClaims()).setProtectedHeader({ alg: "ES256", kid: app.ctx.signingKey.kid, typ: "at+jwt" }),
        ).sign(privateKey);
      },
    ],
    [
      "HS256 keyed with the public JWK",
      async () => {
        const secret = new TextEncoder().encode(JSON.stringify(app.ctx.signingKey.publicJwk));
        return standard(
          new SignJWT(baseClaims()).setProtectedHeader({ alg: "HS256", kid: app.ctx.signingKey.kid, typ: "at+jwt" }),
        ).sign(secret);
      },
    ],
  ])("refuses a token with %s", async (_label, make) => {
    expectInvalidToken(await me(`Bearer ${await make()}`));
  });

  it("does not read tokens from the query string", async () => {
    const res = await request(`${app.baseUrl}/api/me?access_token=${good.token}`);
    expectInvalidToken(res);
  });
});
