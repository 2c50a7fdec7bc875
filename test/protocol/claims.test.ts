/**
 * Verifiable claims (PROTOCOL.md section 4) against a real server: a login that lists
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

/** Starts a login that requires `required`, lets `key` answer with `presentation` (built for the request). */
async function loginWithClaims(
  key: WalletKey,
  required: string[],
  present: (req: Awaited<ReturnType<typeof scan>>) => Promise<string | undefined>,
) {
  const { socket } = await connectSocket(app.baseUrl);
  const states = new StateRecorder(socket);
  try {
    const session = await startLogin(socket, { requiredClaims: required });
    const req = await scan(session);
    expect(req.requiredClaims).toEqual(required);
    const presentation = await present(req);
    const body = await signAnswer(key, req, session.matchCode);
    const answer = await postAuth(app.baseUrl, presentation === undefined ? body : { ...body, presentation });
    return { session, states, answer, socket };
  } catch (error) {
    socket.disconnect();
    throw error;
  }
}

describe("verifiable claims", () => {
  it("approves a login with a valid presentation and stores the disclosed claims on the user", async () => {
    const key = createWalletKey();
    const credential = await credentialFor(key, { email: "ada@example.com", age_over_18: true, country: "NL" });
    const { session, states, answer, socket } = await loginWithClaims(key, ["age_over_18", "email"], (req) =>
      presentCredential({
        credential,
        disclose: req.requiredClaims,
        nonce: req.nonce,
        aud: req.uri,
        privateKeyHex: key.privateKey,
      }),
    );
    try {
      expect(answer).toMatchObject({ status: 200, body: { ok: true, state: "approved" } });
      const approved = await states.waitForState(session.sessionId, "approved");
      const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
        code: approved.code,
      });
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
      socket.disconnect();
    }

    // A second login discloses `country` too: the user's claims are merged.
    const second = await loginWithClaims(key, ["country"], (req) =>
      presentCredential({
        credential,
        disclose: ["country"],
        nonce: req.nonce,
        aud: req.uri,
        privateKeyHex: key.privateKey,
      }),
    );
    try {
      expect(second.answer.status).toBe(200);
      const approved = await second.states.waitForState(second.session.sessionId, "approved");
      const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
        sessionId: second.session.sessionId,
        browserSecret: second.session.browserSecret,
        code: approved.code,
      });
      expect(redeemed.body.user.claims).toEqual({ email: "ada@example.com", age_over_18: true, country: "NL" });
    } finally {
      second.socket.disconnect();
    }
  });

  it("answers 401 claims_missing when a required claim is not disclosed, and ends the session", async () => {
    const key = createWalletKey();
    const credential = await credentialFor(key, { email: "bob@example.com" });
    const { session, states, answer, socket } = await loginWithClaims(key, ["email", "age_over_18"], (req) =>
      presentCredential({
        credential,
        disclose: ["email"],
        nonce: req.nonce,
        aud: req.uri,
        privateKeyHex: key.privateKey,
      }),
    );
    try {
      expectError(answer, 401, "claims_missing");
      expect(await states.waitForState(session.sessionId, "denied")).toMatchObject({ reason: "claims_missing" });
    } finally {
      socket.disconnect();
    }
  });

  it("answers 401 claims_invalid for a credential from an attestor the server does not trust", async () => {
    const key = createWalletKey();
    const stranger = { iss: "https://stranger.example", privateKeyHex: privateKeyHexOf(generatePrivateJwk()) };
    const credential = await credentialFor(key, { email: "eve@example.com" }, stranger);
    const { session, states, answer, socket } = await loginWithClaims(key, ["email"], (req) =>
      presentCredential({
        credential,
        disclose: ["email"],
        nonce: req.nonce,
        aud: req.uri,
        privateKeyHex: key.privateKey,
      }),
    );
    try {
      expectError(answer, 401, "claims_invalid");
      expect(await states.waitForState(session.sessionId, "denied")).toMatchObject({ reason: "claims_invalid" });
    } finally {
      socket.disconnect();
    }
  });

  it("answers 401 claims_invalid for someone else's credential, even presented with its holder's key", async () => {
    const owner = createWalletKey();
    const thief = createWalletKey();
    const credential = await credentialFor(owner, { email: "owner@example.com" });
    const { answer, socket } = await loginWithClaims(thief, ["email"], (req) =>
      presentCredential({
        credential,
        disclose: ["email"],
        nonce: req.nonce,
        aud: req.uri,
        privateKeyHex: owner.privateKey,
      }),
    );
    try {
      expectError(answer, 401, "claims_invalid");
    } finally {
      socket.disconnect();
    }
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
