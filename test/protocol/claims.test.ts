/**
 * Verifiable claims (docs/protocol.md section 4) against a real server: a login that lists
 * `requiredClaims` is approved with an SD-JWT VC presentation from a trusted attestor,
 * and the disclosed claims reach the user record (redeem, /api/me, a second login merges
 * them). Refusals end the session with their code. The development attestor is created
 * in DATA_DIR and trusted only when DEV_ATTESTOR is on.
 */
import { stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCredential, presentCredential } from "../../lib/claims/credentials";
import { generatePrivateJwk, privateKeyHexOf, publicJwkOf } from "../../lib/claims/es256k";
import type { MeResponse, RedeemResponse } from "../../lib/protocol/login";
import { approveLogin, createWalletKey, type WalletKey } from "../../lib/wallet";
import { DEV_ATTESTOR_FILE, DEV_ATTESTOR_ISS, readDevAttestor } from "../../server/claims/attestors";
import { startTestApp, type TestApp } from "../support/start-test-app";
import {
  connectSocket,
  expectError,
  postAuth,
  postJson,
  request,
  scan,
  signAnswer,
  startLogin,
  StateRecorder,
} from "./helpers";

const ISS = "https://attestor.example";
const attestorJwk = generatePrivateJwk();
const attestor = { iss: ISS, privateKeyHex: privateKeyHexOf(attestorJwk) };
let app: TestApp;

beforeAll(async () => {
  const { d: _private, ...publicJwk } = attestorJwk;
  app = await startTestApp({ TRUSTED_ATTESTORS: JSON.stringify({ [ISS]: publicJwk }) });
});
afterAll(async () => {
  await app?.stop();
});

function credentialFor(key: WalletKey, claims: Record<string, unknown>, issuer = attestor) {
  return issueCredential({ issuer, holderJwk: publicJwkOf(key.privateKey), claims });
}

/** What the wallet presents: `credential`, disclosing `disclose`, key-bound with `holder`'s key. */
interface Presenting {
  credential: string;
  disclose: string[];
  holder: WalletKey;
}

/** Starts a login that requires `required` and lets `key` sign the answer, with the presentation. */
async function loginWithClaims(key: WalletKey, required: string[], presenting: Presenting) {
  const { socket } = await connectSocket(app.baseUrl);
  const states = new StateRecorder(socket);
  try {
    const session = await startLogin(socket, { requiredClaims: required });
    const req = await scan(session);
    expect(req.requiredClaims).toEqual(required);
    const presentation = await presentCredential({
      credential: presenting.credential,
      disclose: presenting.disclose,
      nonce: req.nonce,
      aud: req.uri,
      privateKeyHex: presenting.holder.privateKey,
    });
    const answer = await postAuth(app.baseUrl, { ...(await signAnswer(key, req, session.matchCode)), presentation });
    return { session, states, answer, socket };
  } catch (error) {
    socket.disconnect();
    throw error;
  }
}

type ClaimsLogin = Awaited<ReturnType<typeof loginWithClaims>>;

async function redeem(login: ClaimsLogin) {
  const approved = await login.states.waitForState(login.session.sessionId, "approved");
  return postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
    sessionId: login.session.sessionId,
    browserSecret: login.session.browserSecret,
    code: approved.code,
  });
}

/** The answer is a 401 with `code` and the browser hears the session end with it. */
async function expectRefused(login: ClaimsLogin, code: string) {
  try {
    expectError(login.answer, 401, code);
    expect(await login.states.waitForState(login.session.sessionId, "denied")).toMatchObject({ reason: code });
  } finally {
    login.socket.disconnect();
  }
}

describe("verifiable claims", () => {
  it("approves a login with a valid presentation and stores the disclosed claims on the user", async () => {
    const key = createWalletKey();
    const credential = await credentialFor(key, { email: "ada@example.com", age_over_18: true, country: "NL" });
    const first = await loginWithClaims(key, ["age_over_18", "email"], {
      credential,
      disclose: ["age_over_18", "email"],
      holder: key,
    });
    try {
      expect(first.answer).toMatchObject({ status: 200, body: { ok: true, state: "approved" } });
      const redeemed = await redeem(first);
      expect(redeemed.status).toBe(200);
      // Disclosed only: `country` stayed in the wallet.
      expect(redeemed.body.user).toMatchObject({
        address: key.address,
        claims: { email: "ada@example.com", age_over_18: true },
      });
      expect(redeemed.body.user.claims).not.toHaveProperty("country");
      const me = await request<MeResponse>(`${app.baseUrl}/api/me`, {
        headers: { authorization: `Bearer ${redeemed.body.accessToken}` },
      });
      expect(me.body.user.claims).toEqual({ email: "ada@example.com", age_over_18: true });
    } finally {
      first.socket.disconnect();
    }

    // A second login discloses `country` too: the user's claims are merged.
    const second = await loginWithClaims(key, ["country"], { credential, disclose: ["country"], holder: key });
    try {
      expect(second.answer.status).toBe(200);
      const redeemed = await redeem(second);
      expect(redeemed.body.user.claims).toEqual({ email: "ada@example.com", age_over_18: true, country: "NL" });
    } finally {
      second.socket.disconnect();
    }
  });

  it("answers 401 claims_missing when a required claim is not disclosed, and ends the session", async () => {
    const key = createWalletKey();
    const credential = await credentialFor(key, { email: "bob@example.com" });
    const login = await loginWithClaims(key, ["email", "age_over_18"], {
      credential,
      disclose: ["email"],
      holder: key,
    });
    await expectRefused(login, "claims_missing");
  });

  it("answers 401 claims_invalid for a credential from an attestor the server does not trust", async () => {
    const key = createWalletKey();
    const stranger = { iss: "https://stranger.example", privateKeyHex: privateKeyHexOf(generatePrivateJwk()) };
    const credential = await credentialFor(key, { email: "eve@example.com" }, stranger);
    const login = await loginWithClaims(key, ["email"], { credential, disclose: ["email"], holder: key });
    await expectRefused(login, "claims_invalid");
  });

  it("answers 401 claims_invalid for someone else's credential, even presented with its holder's key", async () => {
    const owner = createWalletKey();
    const thief = createWalletKey();
    const credential = await credentialFor(owner, { email: "owner@example.com" });
    const login = await loginWithClaims(thief, ["email"], { credential, disclose: ["email"], holder: owner });
    await expectRefused(login, "claims_invalid");
  });

  it("does not create or trust the development attestor unless DEV_ATTESTOR is on", async () => {
    expect(await readDevAttestor(app.dataDir)).toBeUndefined();
  });
});

describe("the development attestor", () => {
  let devApp: TestApp;
  beforeAll(async () => {
    devApp = await startTestApp({ DEV_ATTESTOR: "true" });
  });
  afterAll(async () => {
    await devApp?.stop();
  });

  it("is created in DATA_DIR (owner-only) and its credentials are accepted", async () => {
    const file = path.join(devApp.dataDir, DEV_ATTESTOR_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const dev = await readDevAttestor(devApp.dataDir);
    expect(dev?.iss).toBe(DEV_ATTESTOR_ISS);

    const key = createWalletKey();
    const credential = await issueCredential({
      issuer: { iss: DEV_ATTESTOR_ISS, privateKeyHex: privateKeyHexOf(dev!.jwk) },
      holderJwk: publicJwkOf(key.privateKey),
      claims: { nickname: "ada" },
    });
    const { socket } = await connectSocket(devApp.baseUrl);
    const states = new StateRecorder(socket);
    try {
      const session = await startLogin(socket, { requiredClaims: ["nickname"] });
      const req = await scan(session);
      const presentation = await presentCredential({
        credential,
        disclose: ["nickname"],
        nonce: req.nonce,
        aud: req.uri,
        privateKeyHex: key.privateKey,
      });
      await approveLogin({ key, request: req, matchCode: session.matchCode, presentation });
      await states.waitForState(session.sessionId, "approved");
    } finally {
      socket.disconnect();
    }
  });
});
