/**
 * Revocation with the IETF Token Status List against a real server (SQLite): a hosted
 * attestor's status list token at GET /api/attestors/<id>/status-list (decoded independently
 * with @sd-jwt/jwt-status-list), the CLI flipping an entry, and logins that present the
 * credential refused as revoked or suspended once the verifier's cached list has lapsed
 * (STATUS_LIST_TTL_SECONDS=1 here). A list that cannot be fetched refuses; a status URI outside
 * the attestor's origins is never fetched.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { getListFromStatusListJWT } from "@sd-jwt/jwt-status-list";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCredential } from "../../lib/claims/credentials";
import { base64urlDecode, privateKeyHexOf, publicJwkOf, verifyEs256k } from "../../lib/claims/es256k";
import { createWalletKey } from "../../lib/wallet";
import { runAttestorCli } from "../../scripts/attestor-cli";
import { createDb, type DbHandle } from "../../server/db/client";
import { readAttestorSigningKey, type AttestorRecord } from "../../server/claims/attestor-records";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { request } from "../protocol/helpers";
import { createHostedAttestor, issueWithStatus, loginPresenting } from "./support";

const TTL_SECONDS = 1;
let app: TestApp;
let handle: DbHandle;
let attestor: AttestorRecord;
let bystander: Server;
let bystanderHits = 0;

beforeAll(async () => {
  app = await startTestApp({ STATUS_LIST_TTL_SECONDS: String(TTL_SECONDS) });
  handle = await createDb({ url: `file:${path.join(app.dataDir, "app.db")}` });
  attestor = await createHostedAttestor(handle.prisma, app.dataDir, app.baseUrl);
  bystander = createServer((_req, res) => {
    bystanderHits++;
    res.end("no");
  });
  await new Promise<void>((resolve) => bystander.listen(0, "127.0.0.1", resolve));
});
afterAll(async () => {
  await new Promise((resolve) => bystander?.close(resolve));
  await handle?.close();
  await app?.stop();
});

const issue = (key = createWalletKey()) =>
  issueWithStatus(handle.prisma, app.dataDir, app.baseUrl, attestor, key, { email: "ada@example.com" }).then(
    (issued) => ({ ...issued, key }),
  );

async function cli(...argv: string[]) {
  const lines: string[] = [];
  const env = { DATA_DIR: app.dataDir, PUBLIC_URL: app.baseUrl, NODE_ENV: "test" as const };
  const code = await runAttestorCli(argv, { env, out: (l) => lines.push(l), err: (l) => lines.push(l) });
  expect({ code, out: lines.join("\n") }).toMatchObject({ code: 0 });
}

/** Longer than the list's ttl: the verifier's cached copy has lapsed. */
const outwaitTtl = () => sleep(TTL_SECONDS * 1000 + 500);

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(new TextDecoder().decode(base64urlDecode(part)!)) as Record<string, unknown>;
}

describe("GET /api/attestors/<id>/status-list", () => {
  it("serves a signed statuslist+jwt the library decodes, with Cache-Control and an ETag", async () => {
    const { credentialId, statusIndex, uri } = await issue();
    expect(uri).toBe(`${app.baseUrl}/api/attestors/${attestor.id}/status-list`);
    await cli("revoke", credentialId);
    const res = await request(uri);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/statuslist+jwt");
    expect(res.headers.get("cache-control")).toBe(`public, max-age=${TTL_SECONDS}`);
    const [h, p, signature] = res.text.split(".");
    expect(decodePart(h!)).toEqual({ alg: "ES256K", typ: "statuslist+jwt", kid: attestor.kid });
    expect(decodePart(p!)).toMatchObject({ iss: attestor.issuer, sub: uri, ttl: TTL_SECONDS, iat: expect.any(Number) });
    expect(verifyEs256k(attestor.publicJwk, `${h}.${p}`, signature!)).toBe(true);
    // Decoded by the library, not by the server's decoder.
    const list = getListFromStatusListJWT(res.text);
    expect(list.getBitsPerStatus()).toBe(2);
    expect(list.statusList).toHaveLength(attestor.statusListSize);
    expect(list.getStatus(statusIndex)).toBe(1);
    expect(list.statusList.filter((value) => value !== 0)).toEqual([1]);

    await cli("suspend", credentialId);
    const suspended = await request(uri);
    expect(getListFromStatusListJWT(suspended.text).getStatus(statusIndex)).toBe(2);
    const etag = suspended.headers.get("etag")!;
    const again = await request(uri, { headers: { "If-None-Match": etag } });
    expect(again.status).toBe(304);
    await cli("reinstate", credentialId);
    expect(getListFromStatusListJWT((await request(uri)).text).getStatus(statusIndex)).toBe(0);
  });

  it("answers 404 not_found for an id that names no hosted attestor", async () => {
    for (const id of ["000000000000000000000000", "not-an-id"]) {
      const res = await request(`${app.baseUrl}/api/attestors/${id}/status-list`);
      expect(res.status).toBe(404);
      expect(res.body).toMatchObject({ error: { code: "not_found" } });
    }
  });
});

describe("a login presenting a credential with a status", () => {
  it("is approved while valid, refused as revoked and suspended on the next login after the ttl, approved when reinstated", async () => {
    const { credential, credentialId, key } = await issue();
    expect(await loginPresenting(app.baseUrl, key, ["email"], credential)).toMatchObject({ status: 200 });

    await cli("revoke", credentialId);
    await outwaitTtl();
    const revoked = await loginPresenting(app.baseUrl, key, ["email"], credential);
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ error: { code: "claims_invalid", reason: "credential_revoked" } });

    await cli("suspend", credentialId);
    await outwaitTtl();
    const suspended = await loginPresenting(app.baseUrl, key, ["email"], credential);
    expect(suspended.body).toMatchObject({ error: { code: "claims_invalid", reason: "credential_suspended" } });

    await cli("reinstate", credentialId);
    await outwaitTtl();
    expect(await loginPresenting(app.baseUrl, key, ["email"], credential)).toMatchObject({ status: 200 });
  });

  it("is refused with status_list_unavailable when the list cannot be fetched (not skipped)", async () => {
    const { credential, key } = await issue();
    // The attestor's list answers 404 once its record is gone (a fresh node, nothing cached).
    await handle.prisma.attestor.update({ where: { id: attestor.id }, data: { hosted: false } });
    try {
      await outwaitTtl();
      const res = await loginPresenting(app.baseUrl, key, ["email"], credential);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ error: { code: "claims_invalid", reason: "status_list_unavailable" } });
    } finally {
      await handle.prisma.attestor.update({ where: { id: attestor.id }, data: { hosted: true } });
    }
  });

  it("never fetches a status URI outside the attestor's origins", async () => {
    const key = createWalletKey();
    const { port } = bystander.address() as AddressInfo;
    const issued = await issue(key);
    // Same attestor key, status pointing at another origin (re-issued with a hand-made slot).
    const signing = await readAttestorSigningKey(app.dataDir, attestor);
    const credential = await issueCredential({
      issuer: { iss: attestor.issuer, privateKeyHex: privateKeyHexOf(signing) },
      holderJwk: publicJwkOf(key.privateKey),
      claims: { email: "ada@example.com" },
      status: { status_list: { idx: issued.statusIndex, uri: `http://127.0.0.1:${port}/api/attestors/x/status-list` } },
    });
    const res = await loginPresenting(app.baseUrl, key, ["email"], credential);
    expect(res.body).toMatchObject({ error: { code: "claims_invalid", reason: "status_list_unavailable" } });
    expect(bystanderHits).toBe(0);
  });
});
