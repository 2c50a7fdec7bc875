/**
 * Match modes (QR_MATCH_MODE, PUSH_MATCH_MODE; docs/protocol.md sections 1.3 and 5.2) on the wire:
 * `choose` shows the wallet three codes to pick from, `type` none (the person types the page's
 * number); either way the code travels as `matchCode` and a wrong one ends the session as
 * `denied`, reason `wrong_match_code`. QR defaults to choose, push to type.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LoginRequest, RedeemResponse } from "../../lib/protocol/login";
import { hasMatchChoicesOfItsMode, loginRequestSchema } from "../../lib/protocol/login-schemas";
import { createPushApproval, createWalletKey, readTypedMatchCode, WalletError } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { emitAck, openBrowser, postAuth, postJson, scan, signAnswer } from "./helpers";
import { createPushClients } from "./push-helpers";

/** A two-digit code that is not `code`. */
const otherThan = (code: string) => (code === "42" ? "43" : "42");

describe("QR login, match modes", () => {
  const apps: TestApp[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
  });
  async function start(env: Record<string, string>) {
    const app = await startTestApp(env);
    apps.push(app);
    return app;
  }

  for (const mode of ["choose", "type"] as const) {
    describe(`QR_MATCH_MODE=${mode}`, () => {
      let app: TestApp;
      beforeAll(async () => {
        // `choose` is the default: that server is started without the variable.
        app = await start(mode === "type" ? { QR_MATCH_MODE: "type" } : {});
      });

      it("shows the wallet what its mode says, and accepts the page's number", async () => {
        const browser = await openBrowser(app.baseUrl);
        const request: LoginRequest = await scan(browser.session);
        expect(request.matchMode).toBe(mode);
        if (mode === "choose") {
          expect(request.matchChoices).toHaveLength(3);
          expect(request.matchChoices).toContain(browser.session.matchCode);
        } else {
          expect(request.matchChoices).toEqual([]);
        }
        const key = createWalletKey();
        const typed =
          mode === "type" ? readTypedMatchCode(` ${browser.session.matchCode} `) : browser.session.matchCode;
        const answer = await postAuth(app.baseUrl, await signAnswer(key, request, typed));
        expect(answer.status).toBe(200);
        const approved = await browser.states.waitForState(browser.session.sessionId, "approved");
        const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
          sessionId: browser.session.sessionId,
          browserSecret: browser.session.browserSecret,
          code: approved.code,
        });
        expect(redeemed.status).toBe(200);
        expect(redeemed.body.user.address).toBe(key.address);
        browser.socket.disconnect();
      });

      it("ends the session on a wrong number", async () => {
        const browser = await openBrowser(app.baseUrl);
        const request = await scan(browser.session);
        const wrong =
          mode === "choose"
            ? request.matchChoices.find((c) => c !== browser.session.matchCode)!
            : otherThan(browser.session.matchCode);
        const answer = await postAuth(app.baseUrl, await signAnswer(createWalletKey(), request, wrong));
        expect(answer.status).toBe(401);
        expect(answer.body).toMatchObject({ error: { code: "wrong_match_code" } });
        const denied = await browser.states.waitForState(browser.session.sessionId, "denied");
        expect(denied.reason).toBe("wrong_match_code");
        // Ended: the right number cannot follow.
        const late = await postAuth(
          app.baseUrl,
          await signAnswer(createWalletKey(), request, browser.session.matchCode),
        );
        expect(late.body).toMatchObject({ error: { code: "session_closed" } });
        browser.socket.disconnect();
      });
    });
  }
});

describe("push login, match modes", () => {
  for (const mode of ["type", "choose"] as const) {
    describe(`PUSH_MATCH_MODE=${mode}`, () => {
      let app: TestApp;
      const clients = createPushClients(() => app.baseUrl);
      beforeAll(async () => {
        // `type` is the default: that server is started without the variable.
        app = await startTestApp(mode === "choose" ? { PUSH_MATCH_MODE: "choose" } : {});
      });
      afterAll(async () => {
        clients.closeAll();
        await app?.stop();
      });

      it("pushes what its mode says; the page's number approves, a wrong one ends the session", async () => {
        const key = createWalletKey();
        const phone = await clients.connectDevice(key, await clients.pair(key));
        const first = await clients.startedPush(key.address);
        const { request } = await phone.requests.waitFor((r) => r.sessionId === first.session.sessionId);
        expect(request.matchMode).toBe(mode);
        if (mode === "choose") expect(request.matchChoices).toContain(first.session.matchCode);
        else expect(request).not.toHaveProperty("matchChoices");
        const approved = await emitAck(
          phone.socket,
          "push:approve",
          await createPushApproval({ key, request, matchCode: first.session.matchCode }),
        );
        expect(approved).toEqual({ ok: true, state: "approved" });

        const second = await clients.startedPush(key.address);
        const next = await phone.requests.waitFor((r) => r.sessionId === second.session.sessionId);
        const wrong = await emitAck(
          phone.socket,
          "push:approve",
          await createPushApproval({ key, request: next.request, matchCode: otherThan(second.session.matchCode) }),
        );
        expect(wrong).toMatchObject({ ok: false, error: { code: "wrong_match_code" } });
        const denied = await second.states.waitForState(second.session.sessionId, "denied");
        expect(denied.reason).toBe("wrong_match_code");
      });
    });
  }
});

describe("the wallet's side of the modes (lib)", () => {
  it("reads a typed number as the match code, refusing what is not two digits before sending", () => {
    expect(readTypedMatchCode(" 4 7 ")).toBe("47");
    for (const typed of ["", "7", "07", "100", "4a"]) {
      expect(() => readTypedMatchCode(typed)).toThrow(WalletError);
    }
  });

  it("takes a request without matchMode as choose, and refuses choices that do not fit the mode", () => {
    const parsed = loginRequestSchema.safeParse({
      sessionId: "AAAAAAAAAAAAAAAAAAAAAA",
      appName: "A",
      domain: "a.example",
      uri: "https://a.example",
      version: "1",
      chainId: 1,
      nonce: "abcdefgh1234",
      issuedAt: "x",
      expirationTime: "x",
      statement: "s",
      requestId: "r",
      responseUri: "https://a.example/api/auth",
      matchChoices: ["11", "22", "33"],
      requiredClaims: [],
    });
    expect(parsed.success && parsed.data.matchMode).toBe("choose");
    expect(hasMatchChoicesOfItsMode({ matchMode: "choose", matchChoices: ["11", "22", "33"] })).toBe(true);
    expect(hasMatchChoicesOfItsMode({ matchMode: "choose", matchChoices: ["11", "11", "33"] })).toBe(false);
    expect(hasMatchChoicesOfItsMode({ matchMode: "type", matchChoices: [] })).toBe(true);
    expect(hasMatchChoicesOfItsMode({ matchMode: "type", matchChoices: ["11", "22", "33"] })).toBe(false);
  });
});
