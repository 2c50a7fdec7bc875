/**
 * Attestors as records (SQLite): the attestor CLI creates, lists, trusts, distrusts and
 * rotates; a login's presentation verifier follows the records through the directory's
 * cache (a trust change holds once the cache entry is older than ATTESTOR_CACHE_MS);
 * TRUSTED_ATTESTORS stays trusted; rotation keeps old credentials and refuses new ones
 * signed with the old key; status slots are unique per attestor.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCredential, presentCredential } from "../../lib/claims/credentials";
import { generatePrivateJwk, privateKeyHexOf, publicJwkOf } from "../../lib/claims/es256k";
import { createWalletKey } from "../../lib/wallet";
import { runAttestorCli } from "../../scripts/attestor-cli";
import { createManualClock } from "../../test/support/manual-clock";
import { createDb, type Db, type DbHandle } from "../db/client";
import { migrateDatabase } from "../db/migrate";
import { ATTESTOR_CACHE_MS, createAttestorDirectory } from "./attestor-directory";
import {
  allocateStatusIndex,
  findAttestor,
  readAttestorSigningKey,
  setCredentialStatus,
  type AttestorRecord,
} from "./attestor-records";
import { publicPartOf } from "./attestors";
import { createPresentationVerifier } from "./verify-presentation";

let dir: string;
let handle: DbHandle;
let db: Db;
let env: NodeJS.ProcessEnv;
const PUBLIC_URL = "https://login.example";

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "wl-attestors-test-"));
  const url = `file:${path.join(dir, "app.db")}`;
  env = { DATA_DIR: dir, DATABASE_URL: url, PUBLIC_URL, NODE_ENV: "test" };
  await migrateDatabase({ url });
  handle = await createDb({ url });
  db = handle.prisma;
});
afterAll(async () => {
  await handle?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAttestorCli(argv, { env, out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const wallet = createWalletKey();
const NONCE = "n0nceValue123456";
const AUD = "https://login.example";

async function presentationFrom(issuer: { iss: string; privateKeyHex: string }, issuedAt?: number) {
  const credential = await issueCredential({
    issuer,
    holderJwk: publicJwkOf(wallet.privateKey),
    claims: { email: "ada@example.com" },
    ...(issuedAt === undefined ? {} : { issuedAt }),
  });
  return presentCredential({
    credential,
    disclose: ["email"],
    nonce: NONCE,
    aud: AUD,
    privateKeyHex: wallet.privateKey,
  });
}

async function signerOf(record: AttestorRecord) {
  return { iss: record.issuer, privateKeyHex: privateKeyHexOf(await readAttestorSigningKey(dir, record)) };
}

const check = (verifier: ReturnType<typeof createPresentationVerifier>, presentation: string) =>
  verifier.verify({ presentation, nonce: NONCE, aud: AUD, holderAddress: wallet.address, requiredClaims: ["email"] });

describe("npm run attestor", () => {
  it("creates a hosted attestor: key file 0600 outside the database, issuer under PUBLIC_URL, listed", async () => {
    const created = await cli("create", "--name", "Demo attestor", "--json");
    expect(created.code).toBe(0);
    const record = JSON.parse(created.out) as { id: string; issuer: string; trusted: boolean; hosted: boolean };
    expect(record).toMatchObject({ issuer: `${PUBLIC_URL}/attestors/${record.id}`, trusted: false, hosted: true });
    const stat = await fs.stat(path.join(dir, "keys", "attestors", `${record.id}.json`));
    expect(stat.mode & 0o777).toBe(0o600);
    const row = await db.attestor.findUniqueOrThrow({ where: { id: record.id } });
    expect(JSON.stringify(row)).not.toContain('"d"');
    const listed = JSON.parse((await cli("list", "--json")).out) as { id: string }[];
    expect(listed.map((r) => r.id)).toContain(record.id);
  });

  it("records an outside attestor by public key, refusing a private one and a missing issuer", async () => {
    const jwk = generatePrivateJwk();
    expect(
      (await cli("create", "--name", "X", "--issuer", "https://x.example", "--jwk", JSON.stringify(jwk))).code,
    ).toBe(1);
    expect((await cli("create", "--name", "X", "--jwk", JSON.stringify(publicPartOf(jwk)))).code).toBe(2);
    const ok = await cli(
      "create",
      "--name",
      "X",
      "--issuer",
      "https://x.example",
      "--jwk",
      JSON.stringify(publicPartOf(jwk)),
    );
    expect(ok.code).toBe(0);
    expect(
      (await cli("create", "--name", "Y", "--issuer", "https://x.example", "--jwk", JSON.stringify(publicPartOf(jwk))))
        .err,
    ).toContain("exists already");
    expect((await cli("trust", "nobody")).code).toBe(1);
    expect((await cli("frobnicate")).code).toBe(2);
  });
});

describe("trust from the records", () => {
  it("a login follows trust and distrust within the cache time; TRUSTED_ATTESTORS stays trusted", async () => {
    const created = JSON.parse((await cli("create", "--name", "Trust me", "--json")).out) as { id: string };
    const record = (await findAttestor(db, created.id))!;
    const configuredJwk = generatePrivateJwk();
    const configured = { iss: "https://configured.example", privateKeyHex: privateKeyHexOf(configuredJwk) };
    const clock = createManualClock();
    const directory = createAttestorDirectory({
      db,
      configured: new Map([[configured.iss, publicPartOf(configuredJwk)]]),
      publicUrl: PUBLIC_URL,
      now: clock.now,
    });
    const verifier = createPresentationVerifier(directory);
    const presentation = await presentationFrom(await signerOf(record));

    expect(await check(verifier, presentation)).toMatchObject({ ok: false, reason: "untrusted issuer" });
    expect((await cli("trust", record.id)).code).toBe(0);
    // Still the cached answer until the entry is older than the cache time...
    expect(await check(verifier, presentation)).toMatchObject({ ok: false, reason: "untrusted issuer" });
    clock.advance(ATTESTOR_CACHE_MS + 1);
    expect(await check(verifier, presentation)).toMatchObject({ ok: true, claims: { email: "ada@example.com" } });

    expect((await cli("distrust", record.issuer)).code).toBe(0);
    clock.advance(ATTESTOR_CACHE_MS + 1);
    expect(await check(verifier, presentation)).toMatchObject({ ok: false, reason: "untrusted issuer" });

    // The configured attestor has no record and needs none.
    expect(await check(verifier, await presentationFrom(configured))).toMatchObject({ ok: true });
  });

  it("rotate-key: credentials issued before still verify with the old key, new ones signed with it do not", async () => {
    const created = JSON.parse((await cli("create", "--name", "Rotating", "--trusted", "--json")).out) as {
      id: string;
    };
    const before = (await findAttestor(db, created.id))!;
    const oldSigner = await signerOf(before);
    const issuedBefore = Math.floor(Date.now() / 1000) - 10;
    const oldCredential = await presentationFrom(oldSigner, issuedBefore);

    expect((await cli("rotate-key", created.id)).code).toBe(0);
    const after = (await findAttestor(db, created.id))!;
    expect(after.kid).not.toBe(before.kid);
    expect(after.previousKeys.map((key) => key.kid)).toEqual([before.kid]);
    const verifier = createPresentationVerifier(createAttestorDirectory({ db, configured: new Map(), cacheMs: 0 }));
    expect(await check(verifier, oldCredential)).toMatchObject({ ok: true });
    expect(await check(verifier, await presentationFrom(await signerOf(after)))).toMatchObject({ ok: true });
    const newWithOldKey = await presentationFrom(oldSigner, Math.floor(Date.now() / 1000) + 5);
    expect(await check(verifier, newWithOldKey)).toMatchObject({ ok: false, code: "claims_invalid" });

    expect((await cli("rotate-key", created.id, "--drop-previous")).code).toBe(0);
    expect(await check(verifier, oldCredential)).toMatchObject({ ok: false, code: "claims_invalid" });
    // The old private key is gone from the key file too.
    const file = await fs.readFile(path.join(dir, "keys", "attestors", `${created.id}.json`), "utf8");
    expect(file).not.toContain(before.publicJwk.x);
  });
});

describe("issued credentials", () => {
  it("allocates distinct status slots and flips a credential's status from the CLI", async () => {
    const created = JSON.parse((await cli("create", "--name", "Slots", "--json")).out) as { id: string };
    const small = await db.attestor.update({ where: { id: created.id }, data: { statusListSize: 8 } });
    const slots = [];
    for (let i = 0; i < 6; i++)
      slots.push(await allocateStatusIndex(db, { attestorId: small.id, publicUrl: PUBLIC_URL }));
    expect(new Set(slots.map((slot) => slot.statusIndex)).size).toBe(6);
    expect(slots[0]!.status.status_list.uri).toBe(`${PUBLIC_URL}/api/attestors/${small.id}/status-list`);
    const [first] = slots;
    expect(JSON.parse((await cli("revoke", first!.credentialId, "--json")).out)).toMatchObject({ status: "revoked" });
    expect(JSON.parse((await cli("suspend", first!.credentialId, "--json")).out)).toMatchObject({
      status: "suspended",
    });
    expect(JSON.parse((await cli("reinstate", first!.credentialId, "--json")).out)).toMatchObject({ status: "valid" });
    await expect(setCredentialStatus(db, "missing", "revoked")).rejects.toThrow("no issued credential");
  });
});
