/**
 * Nested disclosure (docs/protocol.md section 4.2): members of objects and elements of arrays
 * are selectively disclosable and asked for by path in `requiredClaims` (`address.country`,
 * `nationalities.1`). The wallet discloses only those (and what leads to them); the server
 * checks each path against the presented disclosures, array positions as issued; a login
 * against a real server stores exactly the disclosed parts on the user.
 */
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isPathDisclosed, parseClaimPath, presentationFrameFor } from "../../lib/claims/claim-paths";
import { issueCredential, presentCredential, sdJwtHasher } from "../../lib/claims/credentials";
import { generatePrivateJwk, privateKeyHexOf, publicJwkOf } from "../../lib/claims/es256k";
import type { RedeemResponse } from "../../lib/protocol/login";
import { createWalletKey } from "../../lib/wallet";
import { publicPartOf } from "../../server/claims/attestors";
import { createPresentationVerifier } from "../../server/claims/verify-presentation";
import { connectSocket, postAuth, postJson, scan, signAnswer, startLogin, StateRecorder } from "../protocol/helpers";
import { startTestApp, type TestApp } from "../support/start-test-app";

const ISS = "https://attestor.example";
const attestorJwk = generatePrivateJwk();
const issuer = { iss: ISS, privateKeyHex: privateKeyHexOf(attestorJwk) };
const wallet = createWalletKey();
const claims = {
  email: "ada@example.com",
  address: { country: "NL", city: "Delft", street: { name: "Oude Delft", number: 1 } },
  nationalities: ["DE", "FR"],
};
const NONCE = "n0nceValue123456";
const AUD = "https://login.example";
const verifier = createPresentationVerifier(new Map([[ISS, publicPartOf(attestorJwk)]]));

const credential = () => issueCredential({ issuer, holderJwk: publicJwkOf(wallet.privateKey), claims });
const present = async (disclose: string[]) =>
  presentCredential({
    credential: await credential(),
    disclose,
    nonce: NONCE,
    aud: AUD,
    privateKeyHex: wallet.privateKey,
  });
const check = (presentation: string, requiredClaims: string[]) =>
  verifier.verify({ presentation, nonce: NONCE, aud: AUD, holderAddress: wallet.address, requiredClaims });

describe("claim paths", () => {
  it("parses dot paths and refuses malformed or too deep ones", () => {
    expect(parseClaimPath("address.country")).toEqual(["address", "country"]);
    expect(parseClaimPath("nationalities.0")).toEqual(["nationalities", "0"]);
    for (const bad of ["", "a..b", ".a", "a.", "a b", "a.b.c.d.e.f.g.h.i"]) expect(parseClaimPath(bad)).toBeNull();
  });

  it("every member and element is disclosable as issued: the keys name array positions", async () => {
    const keys = await new SDJwtVcInstance({ hasher: sdJwtHasher }).presentableKeys(await credential());
    expect(keys).toEqual(
      expect.arrayContaining([
        "address",
        "address.country",
        "address.street",
        "address.street.number",
        "nationalities.0",
        "nationalities.1",
      ]),
    );
    expect(presentationFrameFor(keys, ["nationalities.1", "address.street"])).toEqual({
      nationalities: { 1: true },
      address: { street: { name: true, number: true } },
    });
  });
});

describe("the verifier", () => {
  it("accepts the required paths when disclosed; what was not asked stays hidden", async () => {
    const result = await check(await present(["address.country", "nationalities.1"]), [
      "address.country",
      "nationalities.1",
    ]);
    expect(result).toEqual({ ok: true, claims: { address: { country: "NL" }, nationalities: ["FR"] } });
  });

  it("counts array positions as issued, not as compacted after disclosure", async () => {
    // Only element 1 ("FR") is disclosed: the disclosed array is ["FR"], yet nationalities.0 is not disclosed.
    const presentation = await present(["nationalities.1"]);
    expect(await check(presentation, ["nationalities.0"])).toMatchObject({ ok: false, code: "claims_missing" });
    expect(await check(presentation, ["nationalities.1"])).toMatchObject({ ok: true });
  });

  it("refuses with claims_missing a path the wallet did not disclose", async () => {
    const presentation = await present(["address.country"]);
    expect(await check(presentation, ["address.city"])).toMatchObject({
      ok: false,
      code: "claims_missing",
      reason: "missing address.city",
    });
    expect(await check(presentation, ["email"])).toMatchObject({ ok: false, code: "claims_missing" });
  });

  it("a whole object asked for is disclosed with all under it", async () => {
    const result = await check(await present(["address"]), ["address.street.name", "address.city"]);
    expect(result).toEqual({ ok: true, claims: { address: claims.address } });
  });

  it("isPathDisclosed does not walk compacted arrays", () => {
    expect(isPathDisclosed("a.0", new Set(), { a: ["x"] })).toBe(false);
    expect(isPathDisclosed("a.b", new Set(), { a: { b: 1 } })).toBe(true);
    expect(isPathDisclosed("a.b", new Set(), { a: { c: 1 } })).toBe(false);
  });
});

describe("a login asking for nested claims", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ TRUSTED_ATTESTORS: JSON.stringify({ [ISS]: publicPartOf(attestorJwk) }) });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("is approved and stores only the disclosed parts on the user", async () => {
    const key = createWalletKey();
    const { socket } = await connectSocket(app.baseUrl);
    const states = new StateRecorder(socket);
    try {
      const required = ["address.country", "nationalities.1"];
      const session = await startLogin(socket, { requiredClaims: required });
      const req = await scan(session);
      expect(req.requiredClaims).toEqual(required);
      const cred = await issueCredential({ issuer, holderJwk: publicJwkOf(key.privateKey), claims });
      const presentation = await presentCredential({
        credential: cred,
        disclose: req.requiredClaims,
        nonce: req.nonce,
        aud: req.uri,
        privateKeyHex: key.privateKey,
      });
      const answer = await postAuth(app.baseUrl, { ...(await signAnswer(key, req, session.matchCode)), presentation });
      expect(answer.status).toBe(200);
      const approved = await states.waitForState(session.sessionId, "approved");
      const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
        code: approved.code,
      });
      expect(redeemed.body.user.claims).toEqual({ address: { country: "NL" }, nationalities: ["FR"] });
    } finally {
      socket.disconnect();
    }
  });
});
