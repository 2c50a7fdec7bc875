/**
 * Attestor records on the admin API (docs/protocol.md section 6.5) against a real server: an admin
 * lists them; distrusting one makes a login presenting its credential claims_invalid (once the
 * attestor directory's cache lapses) and trusting it again makes that login pass; a hosted
 * attestor's key is rotated (the old one kept for what it signed before), an outside one's is
 * not (409 attestor_not_hosted); ids are checked; a non-admin and a caller without a token are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCredential } from "../../lib/claims/credentials";
import { generatePrivateJwk, privateKeyHexOf, publicJwkOf } from "../../lib/claims/es256k";
import type { AdminAttestorView } from "../../lib/protocol/attestor";
import { createWalletKey } from "../../lib/wallet";
import {
  createAttestor,
  findAttestor,
  readAttestorSigningKey,
  type AttestorRecord,
} from "../../server/claims/attestor-records";
import { answerPresenting, answerPresentingUntil, bearer } from "../support/presenting-login";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { WAIT_MS, expectError, logIn, postJson, request } from "./helpers";

const admin = createWalletKey();
const holder = createWalletKey();
const CLAIMS = ["age_over_18"];
let app: TestApp;
let adminToken: string;
let userToken: string;
let hosted: AttestorRecord;
let outside: AttestorRecord;
let credential: string;

const adminPath = (suffix = "") => `${app.baseUrl}/api/attestor/admin/attestors${suffix}`;

beforeAll(async () => {
  app = await startTestApp({ ADMIN_ADDRESSES: admin.address });
  adminToken = (await logIn(app.baseUrl, admin)).redeemed.accessToken;
  userToken = (await logIn(app.baseUrl)).redeemed.accessToken;
  hosted = await createAttestor(app.ctx.db, app.dataDir, {
    name: "Age checker",
    publicUrl: app.baseUrl,
    trusted: true,
  });
  const { d: _private, ...outsideJwk } = generatePrivateJwk();
  outside = await createAttestor(app.ctx.db, app.dataDir, {
    name: "Outside bank",
    issuer: "https://bank.example",
    publicJwk: outsideJwk,
  });
  credential = await issueCredential({
    issuer: {
      iss: hosted.issuer,
      privateKeyHex: privateKeyHexOf(await readAttestorSigningKey(app.dataDir, hosted)),
    },
    holderJwk: publicJwkOf(holder.privateKey),
    claims: { age_over_18: true },
  });
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** Logins are tried until one answers `status` (the directory may hold the old trust for its cache). */
const loginUntil = (status: number) =>
  answerPresentingUntil(app.baseUrl, holder, credential, CLAIMS, (answer) => answer.status === status, 4 * WAIT_MS);

const act = (id: string, action: string, token = adminToken) =>
  postJson<{ attestor: AdminAttestorView }>(adminPath(`/${id}/${action}`), {}, bearer(token));

async function listed(): Promise<AdminAttestorView[]> {
  const list = await request<{ attestors: AdminAttestorView[] }>(adminPath(), { headers: bearer(adminToken) });
  expect(list.status).toBe(200);
  expect(list.headers.get("cache-control")).toBe("no-store");
  return list.body.attestors;
}

describe("attestor records on the admin API", () => {
  it("lists every record with its key, trust and whether it is hosted here, never a private key", async () => {
    const attestors = await listed();
    const mine = attestors.find((a) => a.id === hosted.id);
    expect(mine).toEqual({
      id: hosted.id,
      name: "Age checker",
      issuer: hosted.issuer,
      kid: hosted.kid,
      publicJwk: { kty: "EC", crv: "secp256k1", x: hosted.publicJwk.x, y: hosted.publicJwk.y },
      trusted: true,
      hosted: true,
      previousKids: [],
      createdAt: hosted.createdAt.toISOString(),
      keyRotatedAt: null,
    });
    expect(attestors.find((a) => a.id === outside.id)).toMatchObject({
      name: "Outside bank",
      issuer: "https://bank.example",
      trusted: false,
      hosted: false,
    });
    // The demo attestor's record is there too (made on first start).
    expect(attestors.some((a) => a.issuer === `${app.baseUrl}/attestor`)).toBe(true);
    expect(JSON.stringify(attestors)).not.toMatch(/"d"/);
  });

  it("distrust refuses a login presenting the attestor's credential; trust accepts it again", async () => {
    expect((await answerPresenting(app.baseUrl, holder, credential, CLAIMS)).status).toBe(200);

    const distrusted = await act(hosted.id, "distrust");
    expect(distrusted.status).toBe(200);
    expect(distrusted.body.attestor).toMatchObject({ id: hosted.id, trusted: false });
    expect((await findAttestor(app.ctx.db, hosted.id))?.trusted).toBe(false);
    expect((await listed()).find((a) => a.id === hosted.id)?.trusted).toBe(false);
    const refused = await loginUntil(401);
    expect(refused.status).toBe(401);
    expect((refused.body as { error: { code: string } }).error.code).toBe("claims_invalid");

    const trusted = await act(hosted.id, "trust");
    expect(trusted.status).toBe(200);
    expect(trusted.body.attestor.trusted).toBe(true);
    expect((await loginUntil(200)).status).toBe(200);
  }, 180_000);

  it("rotates a hosted attestor's key, keeping the old one for what it signed before; not an outside one's", async () => {
    const rotated = await act(hosted.id, "rotate-key");
    expect(rotated.status).toBe(200);
    expect(rotated.body.attestor.kid).not.toBe(hosted.kid);
    expect(rotated.body.attestor.previousKids).toEqual([hosted.kid]);
    expect(rotated.body.attestor.keyRotatedAt).toEqual(expect.any(String));
    const record = await findAttestor(app.ctx.db, hosted.id);
    expect(record?.kid).toBe(rotated.body.attestor.kid);
    expect((await readAttestorSigningKey(app.dataDir, record!)).x).toBe(rotated.body.attestor.publicJwk.x);
    // Issued before the rotation: still accepted with the previous key.
    expect((await loginUntil(200)).status).toBe(200);

    expectError(await act(outside.id, "rotate-key"), 409, "attestor_not_hosted");
    expect((await findAttestor(app.ctx.db, outside.id))?.kid).toBe(outside.kid);
  }, 120_000);

  it("answers not_found for a malformed or unknown id", async () => {
    expectError(await act("0".repeat(24), "trust"), 404, "not_found");
    expectError(await act("not-an-id", "trust"), 404, "not_found");
    expectError(await act("a".repeat(300), "distrust"), 404, "not_found");
    expectError(await act(`${hosted.id.toUpperCase()}`, "distrust"), 404, "not_found");
    expect((await findAttestor(app.ctx.db, hosted.id))?.trusted).toBe(true);
  });

  it("refuses a signed-in non-admin (403 forbidden) and a caller without a token (401 invalid_token)", async () => {
    expectError(await request(adminPath(), { headers: bearer(userToken) }), 403, "forbidden");
    expectError(await act(outside.id, "trust", userToken), 403, "forbidden");
    expectError(await act(hosted.id, "rotate-key", userToken), 403, "forbidden");
    expectError(await request(adminPath()), 401, "invalid_token");
    expectError(await postJson(adminPath(`/${outside.id}/trust`), {}), 401, "invalid_token");
    const outsideNow = await findAttestor(app.ctx.db, outside.id);
    expect(outsideNow?.trusted).toBe(false);
    expect((await findAttestor(app.ctx.db, hosted.id))?.kid).not.toBe(hosted.kid); // only the admin's rotation
  });
});
