/**
 * The demo attestor (docs/protocol.md section 6) against a real server: issuance granted at once,
 * pending until an admin approves, refused; delivery on the wallet's own channel only, encrypted
 * so that only the holder's key opens it; and what we issue is accepted by an independent SD-JWT
 * VC verifier (@sd-jwt/sd-jwt-vc's own verify with node:crypto's ECDSA, not server/claims/) and by
 * a login that asks for the claim.
 */
import { createPublicKey, verify as verifySignature } from "node:crypto";
import { Writable } from "node:stream";
import { SDJwtVcInstance } from "@sd-jwt/sd-jwt-vc";
import { io } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sdJwtHasher } from "../../lib/claims/credentials";
import { decryptCredential, generateDeliveryKey } from "../../lib/claims/delivery";
import { publicJwkOf } from "../../lib/claims/es256k";
import { signWalletProof, thumbprintOf } from "../../lib/claims/wallet-proof";
import {
  PROOF_TYPES,
  walletChannel,
  type AdminRequestView,
  type AttestorMetadata,
  type CredentialRequestView,
} from "../../lib/protocol/attestor";
import type { ChannelEventPayload } from "../../lib/protocol/channels";
import { createWalletKey, requestCredential, type WalletKey } from "../../lib/wallet";
import { createLogger } from "../../server/logger";
import { findAttestor, rotateAttestorKey } from "../../server/claims/attestor-records";
import {
  answerPresentingUntil,
  answerPresenting as answerPresentingOf,
  bearer,
  logInPresenting as logInPresentingOf,
} from "../support/presenting-login";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { WAIT_MS, connectSocket, expectError, logIn, postJson, request } from "./helpers";

const admin = createWalletKey();
const logLines: string[] = [];
let app: TestApp;
let metadata: AttestorMetadata;
let adminToken: string;

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString("utf8"));
      done();
    },
  });
  // A short status-list ttl, so a revocation reaches the verifier's cache within a second.
  app = await startTestApp(
    { ADMIN_ADDRESSES: admin.address, STATUS_LIST_TTL_SECONDS: "1" },
    { log: createLogger("info", sink) },
  );
  metadata = (await request<AttestorMetadata>(`${app.baseUrl}/api/attestor`)).body;
  adminToken = (await logIn(app.baseUrl, admin)).redeemed.accessToken;
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

/** A wallet that has signed in here once (so member_since has a value). */
async function memberWallet(): Promise<WalletKey> {
  return (await logIn(app.baseUrl)).key;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

async function waitFor<T>(read: () => T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS} ms for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** A raw socket subscribed to `key`'s wallet channel (or to `channel` with `key`'s proof): every channel:event it gets. */
async function subscribeRaw(key: WalletKey, channel?: string) {
  const socket = io(app.baseUrl, {
    path: "/socket.io",
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
  });
  const socketId = await new Promise<string>((resolve) =>
    socket.once("connection:established", (p: { socket_id: string }) => resolve(p.socket_id)),
  );
  const name = channel ?? walletChannel(await thumbprintOf(publicJwkOf(key.privateKey)));
  const events: ChannelEventPayload[] = [];
  socket.on("channel:event", (event: ChannelEventPayload) => events.push(event));
  const proof = signWalletProof(key.privateKey, PROOF_TYPES.channel, {
    aud: metadata.iss,
    iat: Math.floor(Date.now() / 1000),
    socket_id: socketId,
    channel: name,
  });
  const auth = await postJson<{ auth?: string }>(`${app.baseUrl}/api/attestor/channel-auth`, {
    socket_id: socketId,
    channel_name: name,
    proof,
  });
  if (auth.status === 200) {
    const ack = (await socket
      .timeout(WAIT_MS)
      .emitWithAck("channel:subscribe", { channel: name, auth: auth.body.auth })) as {
      ok: boolean;
    };
    expect(ack.ok).toBe(true);
  }
  return { socket, events, auth, channel: name };
}

/** A signed request for `claims` over a fresh challenge, posted as `key`. */
async function postRequest(key: WalletKey, claims: string[], extra: Record<string, unknown> = {}) {
  const challenge = await postJson<{ nonce: string }>(`${app.baseUrl}/api/attestor/challenges`, {});
  const delivery = await generateDeliveryKey();
  const proof = signWalletProof(key.privateKey, PROOF_TYPES.request, {
    aud: metadata.iss,
    iat: Math.floor(Date.now() / 1000),
    nonce: challenge.body.nonce,
    claims,
    delivery_jwk: delivery.publicJwk,
    ...extra,
  });
  const answer = await postJson<{ request: CredentialRequestView }>(`${app.baseUrl}/api/attestor/requests`, { proof });
  return { answer, delivery, proof };
}

/** The attestor's signature checked with node:crypto (P1363 r||s), as a verifier of another stack would. */
function independentVerifier(issuerJwk: AttestorMetadata["jwk"]) {
  const publicKey = createPublicKey({ key: issuerJwk, format: "jwk" });
  return new SDJwtVcInstance({
    hasher: sdJwtHasher,
    verifier: (data, signature) =>
      verifySignature(
        "sha256",
        Buffer.from(data),
        { key: publicKey, dsaEncoding: "ieee-p1363" },
        Buffer.from(signature, "base64url"),
      ),
  });
}

const answerPresenting = (key: WalletKey, credential: string, claims: string[]) =>
  answerPresentingOf(app.baseUrl, key, credential, claims);
const logInPresenting = (key: WalletKey, credential: string, claims: string[]) =>
  logInPresentingOf(app.baseUrl, key, credential, claims);

/** A verified_email request for `email` by `key`, pending an admin: the request, and the delivery it waits for. */
async function requestEmail(key: WalletKey, email: string) {
  const requested = deferred<CredentialRequestView>();
  const delivered = requestCredential({
    endpoint: app.baseUrl,
    key,
    claims: ["verified_email"],
    email,
    onRequested: requested.resolve,
    timeoutMs: 4 * WAIT_MS,
  });
  delivered.catch(() => {});
  return { answer: await requested.promise, delivered };
}

const adminRequests = (suffix = "") => `${app.baseUrl}/api/attestor/admin/requests${suffix}`;

/** An admin's (or `token`'s) decision on request `id`: approve, refuse or revoke. */
const decide = (id: string, action: string, token = adminToken) =>
  postJson<{ request: AdminRequestView }>(adminRequests(`/${id}/${action}`), {}, bearer(token));

describe("demo attestor: issuance", () => {
  it("grants member_since at once: an SD-JWT VC bound to the wallet's key, every claim disclosable, accepted by an independent verifier", async () => {
    const key = await memberWallet();
    const answers: CredentialRequestView[] = [];
    const received = await requestCredential({
      endpoint: app.baseUrl,
      key,
      claims: ["member_since"],
      onRequested: (r) => answers.push(r),
      timeoutMs: WAIT_MS,
    });
    expect(answers).toEqual([expect.objectContaining({ status: "issued", claims: ["member_since"] })]);
    expect(received.issuer).toBe(`${app.baseUrl}/attestor`);

    const verified = await independentVerifier(metadata.jwk).verify(received.credential);
    const payload = verified.payload as Record<string, unknown>;
    expect(payload.iss).toBe(metadata.iss);
    expect(payload.member_since).toBe(new Date().toISOString().slice(0, 10));
    expect((payload.cnf as { jwk: unknown }).jwk).toEqual(publicJwkOf(key.privateKey));
    // Selectively disclosable: the signed JWT itself holds only a digest, the value is in a disclosure.
    const jwtPayload = JSON.parse(Buffer.from(received.credential.split(".")[1]!, "base64url").toString("utf8"));
    expect(jwtPayload.member_since).toBeUndefined();
    expect(jwtPayload._sd).toHaveLength(1);
    expect(verified.header?.alg).toBe("ES256K");
  }, 60_000);

  it("keeps verified_email pending until an admin approves it, then delivers it; the claim reaches a login", async () => {
    const key = createWalletKey();
    const { answer, delivered } = await requestEmail(key, "ada@example.com");
    expect(answer.status).toBe("pending");

    // Nobody but an admin sees or decides it.
    const user = await logIn(app.baseUrl);
    expectError(await request(adminRequests(), { headers: bearer(user.redeemed.accessToken) }), 403, "forbidden");
    expectError(await request(adminRequests()), 401, "invalid_token");
    expectError(await decide(answer.id, "approve", user.redeemed.accessToken), 403, "forbidden");

    const list = await request<{ requests: AdminRequestView[] }>(adminRequests(), { headers: bearer(adminToken) });
    expect(list.body.requests).toContainEqual(
      expect.objectContaining({ id: answer.id, status: "pending", address: key.address, email: "ada@example.com" }),
    );
    const approved = await decide(answer.id, "approve");
    expect(approved.status).toBe(200);
    expect(approved.body.request).toMatchObject({ status: "issued", decidedBy: admin.address });
    expectError(await decide(answer.id, "approve"), 409, "request_decided");

    const { credential } = await delivered;
    const verified = await independentVerifier(metadata.jwk).verify(credential);
    expect((verified.payload as Record<string, unknown>).verified_email).toBe("ada@example.com");
    const signedIn = await logInPresenting(key, credential, ["verified_email"]);
    expect(signedIn.claims).toEqual({ verified_email: "ada@example.com" });
  }, 90_000);

  it("refuses a claim it does not offer, member_since for an unknown address, and a used challenge", async () => {
    const key = await memberWallet();
    expectError((await postRequest(key, ["age_over_18"])).answer, 403, "claim_refused");
    expectError((await postRequest(createWalletKey(), ["member_since"])).answer, 403, "claim_refused");
    expectError((await postRequest(key, ["verified_email"])).answer, 400, "invalid_request");

    const first = await postRequest(key, ["member_since"]);
    expect(first.answer.status).toBe(201);
    const replayed = await postJson(`${app.baseUrl}/api/attestor/requests`, { proof: first.proof });
    expectError(replayed, 401, "challenge_not_found");

    const other = createWalletKey();
    const challenge = await postJson<{ nonce: string }>(`${app.baseUrl}/api/attestor/challenges`, {});
    const forged = signWalletProof(other.privateKey, PROOF_TYPES.request, {
      aud: metadata.iss,
      iat: Math.floor(Date.now() / 1000),
      nonce: challenge.body.nonce,
      claims: ["member_since"],
      delivery_jwk: (await generateDeliveryKey()).publicJwk,
    });
    const [h, p, s] = forged.split(".");
    const tampered = `${h}.${p}.${s!.slice(0, -4)}${s!.endsWith("AAAA") ? "BBBB" : "AAAA"}`;
    expectError(await postJson(`${app.baseUrl}/api/attestor/requests`, { proof: tampered }), 401, "invalid_signature");
  }, 60_000);

  it("tells a waiting wallet when an admin refuses its request", async () => {
    const { answer, delivered } = await requestEmail(createWalletKey(), "eve@example.com");
    const outcome = delivered.then(
      () => "delivered",
      (error: { code?: string }) => error.code,
    );
    const refused = await decide(answer.id, "refuse");
    expect(refused.status).toBe(200);
    expect(await outcome).toBe("claim_refused");
  }, 60_000);
});

describe("demo attestor: revocation", () => {
  it("puts a status-list entry in what it issues; an admin's revoke makes the next login presenting it claims_invalid", async () => {
    const key = createWalletKey();
    const {
      answer: { id },
      delivered,
    } = await requestEmail(key, "bob@example.com");
    const approved = await decide(id, "approve");
    expect(approved.body.request.credentialStatus).toBe("valid");
    const { credential } = await delivered;
    // The independent verifier fetches the status list itself and checks the bit.
    const verified = await independentVerifier(metadata.jwk).verify(credential);
    const status = (verified.payload as { status?: { status_list?: { uri?: string } } }).status;
    expect(status?.status_list?.uri).toMatch(new RegExp(`^${app.baseUrl}/api/attestors/[a-f0-9]{24}/status-list$`));
    expect((await answerPresenting(key, credential, ["verified_email"])).status).toBe(200);

    const revoked = await decide(id, "revoke");
    expect(revoked.body.request.credentialStatus).toBe("revoked");
    const list = await request<{ requests: AdminRequestView[] }>(adminRequests(), { headers: bearer(adminToken) });
    expect(list.body.requests.find((r) => r.id === id)?.credentialStatus).toBe("revoked");
    await expect(independentVerifier(metadata.jwk).verify(credential)).rejects.toThrow(/Status is not valid/);
    // The verifier may hold the list for its 1 s ttl: logins are tried until one is refused.
    const answer = await answerPresentingUntil(
      app.baseUrl,
      key,
      credential,
      ["verified_email"],
      (tried) => tried.status !== 200,
      WAIT_MS,
    );
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: { code: "claims_invalid", reason: "credential_revoked" } });
  }, 90_000);
});

describe("demo attestor: its attestor record", () => {
  it("is a trusted attestor hosted here, and signs with the current key after a rotation", async () => {
    const record = await findAttestor(app.ctx.db, metadata.iss);
    expect(record).toMatchObject({ trusted: true, hosted: true, publicJwk: metadata.jwk });
    const rotated = await rotateAttestorKey(app.ctx.db, app.dataDir, metadata.iss);
    const now = (await request<AttestorMetadata>(`${app.baseUrl}/api/attestor`)).body;
    expect(now.jwk).toEqual(rotated.publicJwk);
    expect(now.jwk).not.toEqual(metadata.jwk);
    const key = await memberWallet();
    const { credential } = await requestCredential({
      endpoint: app.baseUrl,
      key,
      claims: ["member_since"],
      timeoutMs: WAIT_MS,
    });
    await independentVerifier(now.jwk).verify(credential);
    await expect(independentVerifier(metadata.jwk).verify(credential)).rejects.toThrow();
    metadata = now;
  }, 60_000);
});

describe("demo attestor: delivery", () => {
  it("reaches the requesting wallet's channel only, and opens with the holder's key only", async () => {
    const alice = await memberWallet();
    const bob = await memberWallet();
    const aliceSocket = await subscribeRaw(alice);
    const bobSocket = await subscribeRaw(bob);
    try {
      // Bob cannot sign Alice's channel with his key, nor a signed-in user through /api/channel-auth.
      const intruder = await subscribeRaw(bob, aliceSocket.channel);
      intruder.socket.disconnect();
      expectError(intruder.auth, 403, "forbidden");
      const { socket: userSocket, socketId } = await connectSocket(app.baseUrl);
      userSocket.disconnect();
      const user = await logIn(app.baseUrl, bob);
      expectError(
        await postJson(
          `${app.baseUrl}/api/channel-auth`,
          { socket_id: socketId, channel_name: aliceSocket.channel },
          bearer(user.redeemed.accessToken),
        ),
        403,
        "forbidden",
      );

      const { answer, delivery } = await postRequest(alice, ["member_since"]);
      expect(answer.status).toBe(201);
      const event = await waitFor(() => aliceSocket.events.find((e) => e.event === "credential"), "Alice's credential");
      const data = JSON.parse(event.data) as { requestId: string; jwe: string };
      expect(data.requestId).toBe(answer.body.request.id);

      // Bob's own request is delivered to him; by then Alice's was long sent, and he saw none of hers.
      const bobs = await postRequest(bob, ["member_since"]);
      await waitFor(() => bobSocket.events.find((e) => e.event === "credential"), "Bob's credential");
      expect(bobSocket.events.map((e) => JSON.parse(e.data).requestId)).toEqual([bobs.answer.body.request.id]);

      // The JWE: ECDH-ES to Alice's delivery key; another key (Bob's) cannot open it.
      const header = JSON.parse(Buffer.from(data.jwe.split(".")[0]!, "base64url").toString("utf8"));
      expect(header).toMatchObject({ alg: "ECDH-ES", enc: "A256GCM" });
      await expect(decryptCredential(data.jwe, bobs.delivery.privateKey)).rejects.toThrow();
      const credential = await decryptCredential(data.jwe, delivery.privateKey);
      await independentVerifier(metadata.jwk).verify(credential);

      // Neither the log nor the database row holds the credential, its disclosures or the JWE.
      const [, firstDisclosure] = credential.split("~");
      const logs = logLines.join("");
      for (const secret of [credential.split("~")[0]!, firstDisclosure!, data.jwe]) expect(logs).not.toContain(secret);
      const row = await app.ctx.db.credentialRequest.findUnique({ where: { id: data.requestId } });
      expect(JSON.stringify(row)).not.toContain(firstDisclosure);
      expect(logs).toContain('"event":"credential_issued"');
    } finally {
      aliceSocket.socket.disconnect();
      bobSocket.socket.disconnect();
    }
  }, 60_000);
});
