/**
 * The wallet-facing endpoints with everything a wallet (or an attacker) can get
 * wrong: exact codes and statuses, never a 500, and "one try per QR": any 401 on
 * an open session ends it as `denied` with that reason, pushed to the browser.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { AuthBody, LoginRequest, StartedSession } from "../../lib/protocol/login";
import type { SiweMessage } from "../../lib/protocol/siwe";
import { createWalletKey } from "../../lib/wallet";
import type { WalletKey } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import type { BrowserSocket, HttpResult } from "./helpers";
import {
  StateRecorder,
  connectSocket,
  expectError,
  startLogin,
  postAuth,
  postJson,
  request,
  scan,
  signAnswer,
  wrongMatchCode,
} from "./helpers";

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

interface Scanned {
  session: StartedSession;
  states: StateRecorder;
  req: LoginRequest;
  key: WalletKey;
}

/** A browser that started a login and a wallet that scanned it. */
async function startAndScan(requiredClaims?: string[]): Promise<Scanned> {
  const { socket } = await connectSocket(app.baseUrl);
  opened.push(socket);
  const states = new StateRecorder(socket);
  const session = await startLogin(socket, requiredClaims ? { requiredClaims } : {});
  const req = await scan(session);
  await states.waitForState(session.sessionId, "scanned");
  return { session, states, req, key: createWalletKey() };
}

/** After a 401 the session is denied with that reason; the right answer is then too late. */
async function expectDeniedWith(s: Scanned, code: string) {
  const denied = await s.states.waitForState(s.session.sessionId, "denied");
  expect(denied).toEqual({ sessionId: s.session.sessionId, state: "denied", reason: code });
  expectError(await postAuth(app.baseUrl, await signAnswer(s.key, s.req, s.session.matchCode)), 401, "session_closed");
  expectError(await request(s.session.qr), 410, "session_closed");
  expect(s.states.states(s.session.sessionId)).toEqual(["scanned", "denied"]);
}

/** After a 400 the session is untouched: the right answer still logs in. */
async function expectStillOpen(s: Scanned) {
  const ok = await postAuth(app.baseUrl, await signAnswer(s.key, s.req, s.session.matchCode));
  expect(ok.status).toBe(200);
  await s.states.waitForState(s.session.sessionId, "approved");
  expect(s.states.states(s.session.sessionId)).toEqual(["scanned", "approved"]);
}

const minutes = (n: number) => new Date(Date.now() + n * 60_000).toISOString();

describe("GET /api/login/requests/{id}", () => {
  it("answers 404 session_not_found for an unknown or malformed id", async () => {
    expectError(await request(`${app.baseUrl}/api/login/requests/${"A".repeat(22)}`), 404, "session_not_found");
    expectError(await request(`${app.baseUrl}/api/login/requests/short`), 404, "session_not_found");
    expectError(await request(`${app.baseUrl}/api/login/requests/${"A".repeat(500)}`), 404, "session_not_found");
    expectError(await request(`${app.baseUrl}/api/login/requests/%00%FF`), 404, "session_not_found");
  });

  it("answers 410 session_closed once the session has ended", async () => {
    const s = await startAndScan();
    expect((await postJson(`${app.baseUrl}/api/auth/deny`, { sessionId: s.session.sessionId })).status).toBe(200);
    expectError(await request(s.session.qr), 410, "session_closed");
  });

  it("answers 410 session_closed once approved", async () => {
    const s = await startAndScan();
    expect((await postAuth(app.baseUrl, await signAnswer(s.key, s.req, s.session.matchCode))).status).toBe(200);
    expectError(await request(s.session.qr), 410, "session_closed");
  });
});

describe("POST /api/auth: valid EIP-4361 variants are accepted", () => {
  const inAMinute = () => new Date(Date.now() + 60_000).toISOString();
  const cases: Array<[string, (s: Scanned) => Partial<SiweMessage>]> = [
    ["a lowercase address", (s) => ({ address: s.key.address.toLowerCase() })],
    ["no statement", () => ({ statement: undefined })],
    ["no expiration time", () => ({ expirationTime: undefined })],
    ["a later expiration time", () => ({ expirationTime: inAMinute() })],
    ["the matching scheme", (s) => ({ scheme: new URL(s.req.uri).protocol.slice(0, -1) })],
    ["a notBefore that has passed", () => ({ notBefore: new Date(Date.now() - 1000).toISOString() })],
    [
      "resources",
      () => ({
        resources: ["https://example.com/terms", "ipfs://bafybeigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi"],
      }),
    ],
    [
      "issuedAt with a time-zone offset",
      () => {
        const local = new Date(Date.now() + 2 * 3_600_000).toISOString().slice(0, 19);
        return { issuedAt: `${local}+02:00` };
      },
    ],
    [
      "issuedAt a little before the session (clock skew)",
      (s) => ({ issuedAt: new Date(Date.parse(s.req.issuedAt) - 30_000).toISOString() }),
    ],
  ];

  it.each(cases)("accepts %s", async (_label, overrides) => {
    const s = await startAndScan();
    const res = await postAuth(app.baseUrl, await signAnswer(s.key, s.req, s.session.matchCode, overrides(s)));
    expect(res.body).toEqual({ ok: true, state: "approved" });
    await s.states.waitForState(s.session.sessionId, "approved");
    // The user is keyed by the checksummed address, whatever case the message used.
    const user = await app.ctx.db.user.findUnique({ where: { address: s.key.address } });
    expect(user?.address).toBe(s.key.address);
  });
});

describe("POST /api/auth: 401s that end the session", () => {
  const cases: Array<[string, string, (s: Scanned) => Promise<AuthBody>]> = [
    [
      "a wrong nonce",
      "nonce_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { nonce: "WrongNonce12345678" }),
    ],
    [
      "a wrong domain",
      "domain_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { domain: "evil.example" }),
    ],
    [
      "another port of the same host",
      "domain_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { domain: "127.0.0.1:1" }),
    ],
    [
      "a wrong uri",
      "field_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { uri: "https://evil.example" }),
    ],
    [
      "a uri with a path",
      "field_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { uri: `${s.req.uri}/elsewhere` }),
    ],
    ["a wrong chainId", "field_mismatch", (s) => signAnswer(s.key, s.req, s.session.matchCode, { chainId: 5 })],
    [
      "a wrong requestId",
      "field_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { requestId: "other" }),
    ],
    [
      "no requestId",
      "field_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { requestId: undefined } as Partial<SiweMessage>),
    ],
    ["a wrong scheme", "field_mismatch", (s) => signAnswer(s.key, s.req, s.session.matchCode, { scheme: "https" })],
    [
      "issuedAt an hour early",
      "field_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { issuedAt: minutes(-60) }),
    ],
    [
      "issuedAt an hour late",
      "field_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { issuedAt: minutes(60) }),
    ],
    [
      "an expirationTime that has passed",
      "field_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { expirationTime: minutes(-1) }),
    ],
    [
      "a notBefore in the future",
      "field_mismatch",
      (s) => signAnswer(s.key, s.req, s.session.matchCode, { notBefore: minutes(10) }),
    ],
    [
      "a wrong match code",
      "wrong_match_code",
      (s) => signAnswer(s.key, s.req, wrongMatchCode(s.req, s.session.matchCode)),
    ],
    [
      "a signature by another key",
      "invalid_signature",
      async (s) => {
        const body = await signAnswer(s.key, s.req, s.session.matchCode);
        return { ...body, signature: await createWalletKey().signMessage(body.message) };
      },
    ],
    [
      "a signature of another text",
      "invalid_signature",
      async (s) => {
        const body = await signAnswer(s.key, s.req, s.session.matchCode);
        return { ...body, signature: await s.key.signMessage(`${body.message} `) };
      },
    ],
    [
      "a well-formed signature that recovers to nobody",
      "invalid_signature",
      async (s) => ({ ...(await signAnswer(s.key, s.req, s.session.matchCode)), signature: `0x${"00".repeat(65)}` }),
    ],
    [
      "a signature with a bad recovery byte",
      "invalid_signature",
      async (s) => {
        const body = await signAnswer(s.key, s.req, s.session.matchCode);
        return { ...body, signature: `${body.signature.slice(0, -2)}05` };
      },
    ],
  ];

  it.each(cases)("refuses %s with %s", async (_label, code, build) => {
    const s = await startAndScan();
    expectError(await postAuth(app.baseUrl, await build(s)), 401, code);
    await expectDeniedWith(s, code);
  });

  it("refuses a session that requires claims without a presentation with claims_missing", async () => {
    const s = await startAndScan(["age_over_18"]);
    expect(s.req.requiredClaims).toEqual(["age_over_18"]);
    expectError(
      await postAuth(app.baseUrl, await signAnswer(s.key, s.req, s.session.matchCode)),
      401,
      "claims_missing",
    );
    await expectDeniedWith(s, "claims_missing");
  });

  it("refuses a session that requires claims with an unverifiable presentation with claims_invalid", async () => {
    const s = await startAndScan(["age_over_18"]);
    const body = await signAnswer(s.key, s.req, s.session.matchCode);
    expectError(await postAuth(app.baseUrl, { ...body, presentation: "not-an-sd-jwt~" }), 401, "claims_invalid");
    await expectDeniedWith(s, "claims_invalid");
  });

  it("answers the same signed message twice with 200 then 401 session_closed", async () => {
    const s = await startAndScan();
    const body = await signAnswer(s.key, s.req, s.session.matchCode);
    expect((await postAuth(app.baseUrl, body)).body).toEqual({ ok: true, state: "approved" });
    expectError(await postAuth(app.baseUrl, body), 401, "session_closed");
    await s.states.waitForState(s.session.sessionId, "approved");
    expect(s.states.states(s.session.sessionId)).toEqual(["scanned", "approved"]);
  });

  it("answers 401 session_not_found for an unknown session", async () => {
    const s = await startAndScan();
    const body = await signAnswer(s.key, s.req, s.session.matchCode);
    expectError(await postAuth(app.baseUrl, { ...body, sessionId: "A".repeat(22) }), 401, "session_not_found");
    // The real session is untouched.
    await expectStillOpen(s);
  });

  it("does not let a session's answer be replayed on another session", async () => {
    const a = await startAndScan();
    const b = await startAndScan();
    const bodyA = await signAnswer(a.key, a.req, a.session.matchCode);
    const res = await postAuth(app.baseUrl, {
      ...bodyA,
      sessionId: b.session.sessionId,
      matchCode: b.session.matchCode,
    });
    expect(res.status).toBe(401);
    expect(["nonce_mismatch", "field_mismatch"]).toContain((res.body as { error: { code: string } }).error.code);
    await b.states.waitForState(b.session.sessionId, "denied");
    await expectStillOpen(a);
  });
});

describe("POST /api/auth: 400 and 413 leave the session open", () => {
  const cases: Array<[string, number, string, (s: Scanned) => Promise<unknown>]> = [
    [
      "a signature that is not 65 bytes of hex",
      400,
      "invalid_request",
      async (s) => ({ ...(await signAnswer(s.key, s.req, s.session.matchCode)), signature: "0x1234" }),
    ],
    [
      "a signature with non-hex digits",
      400,
      "invalid_request",
      async (s) => ({ ...(await signAnswer(s.key, s.req, s.session.matchCode)), signature: `0x${"zz".repeat(65)}` }),
    ],
    [
      "a signature without 0x",
      400,
      "invalid_request",
      async (s) => {
        const body = await signAnswer(s.key, s.req, s.session.matchCode);
        return { ...body, signature: body.signature.slice(2) };
      },
    ],
    [
      "a message that does not parse",
      400,
      "invalid_request",
      async (s) => {
        const message = "hello, sign me in";
        return {
          sessionId: s.req.sessionId,
          message,
          signature: await s.key.signMessage(message),
          matchCode: s.session.matchCode,
        };
      },
    ],
    [
      "a message with Version 2",
      400,
      "invalid_request",
      async (s) => {
        const body = await signAnswer(s.key, s.req, s.session.matchCode);
        const message = body.message.replace("\nVersion: 1\n", "\nVersion: 2\n");
        expect(message).not.toBe(body.message);
        return { ...body, message, signature: await s.key.signMessage(message) };
      },
    ],
    [
      "a message with CRLF line ends",
      400,
      "invalid_request",
      async (s) => {
        const body = await signAnswer(s.key, s.req, s.session.matchCode);
        const message = body.message.replace(/\n/g, "\r\n");
        return { ...body, message, signature: await s.key.signMessage(message) };
      },
    ],
    [
      "a match code that is no match code",
      400,
      "invalid_request",
      async (s) => ({ ...(await signAnswer(s.key, s.req, "42")), matchCode: "7" }),
    ],
    [
      "a missing field",
      400,
      "invalid_request",
      async (s) => {
        const { sessionId, message, signature } = await signAnswer(s.key, s.req, s.session.matchCode);
        return { sessionId, message, signature };
      },
    ],
    [
      "an unknown field",
      400,
      "invalid_request",
      async (s) => ({ ...(await signAnswer(s.key, s.req, s.session.matchCode)), admin: true }),
    ],
    [
      "fields of the wrong type",
      400,
      "invalid_request",
      async (s) => ({ ...(await signAnswer(s.key, s.req, s.session.matchCode)), matchCode: 42 }),
    ],
    ["malformed JSON", 400, "invalid_request", async () => '{"sessionId": "abc",'],
    ["an empty body", 400, "invalid_request", async () => ""],
    ["a JSON array", 400, "invalid_request", async () => "[]"],
    ["JSON null", 400, "invalid_request", async () => "null"],
    [
      "a body over 16 KiB",
      413,
      "payload_too_large",
      async (s) => ({ ...(await signAnswer(s.key, s.req, s.session.matchCode)), presentation: "x".repeat(17 * 1024) }),
    ],
  ];

  it.each(cases)("refuses %s with %i %s", async (_label, status, code, build) => {
    const s = await startAndScan();
    const res: HttpResult = await postAuth(app.baseUrl, await build(s));
    expectError(res, status, code);
    await expectStillOpen(s);
  });

  it("refuses a body over 16 KiB sent without Content-Length", async () => {
    const s = await startAndScan();
    const body = JSON.stringify({
      ...(await signAnswer(s.key, s.req, s.session.matchCode)),
      presentation: "x".repeat(20_000),
    });
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(body));
        controller.close();
      },
    });
    const res = await request(`${app.baseUrl}/api/auth`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expectError(res, 413, "payload_too_large");
    await expectStillOpen(s);
  });
});

describe("POST /api/auth/deny", () => {
  it("denies once: 200, the browser hears denied, then session_closed", async () => {
    const s = await startAndScan();
    const deny = () => postJson(`${app.baseUrl}/api/auth/deny`, { sessionId: s.session.sessionId });
    const first = await deny();
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ ok: true, state: "denied" });
    const denied = await s.states.waitForState(s.session.sessionId, "denied");
    expect(denied.reason).toBe("user_denied");
    expectError(await deny(), 401, "session_closed");
    expectError(
      await postAuth(app.baseUrl, await signAnswer(s.key, s.req, s.session.matchCode)),
      401,
      "session_closed",
    );
  });

  it("refuses to deny an approved session", async () => {
    const s = await startAndScan();
    expect((await postAuth(app.baseUrl, await signAnswer(s.key, s.req, s.session.matchCode))).status).toBe(200);
    expectError(
      await postJson(`${app.baseUrl}/api/auth/deny`, { sessionId: s.session.sessionId }),
      401,
      "session_closed",
    );
    await s.states.waitForState(s.session.sessionId, "approved");
    expect(s.states.states(s.session.sessionId)).toEqual(["scanned", "approved"]);
  });

  it("answers unknown sessions and bad bodies", async () => {
    expectError(
      await postJson(`${app.baseUrl}/api/auth/deny`, { sessionId: "A".repeat(22) }),
      401,
      "session_not_found",
    );
    expectError(await postJson(`${app.baseUrl}/api/auth/deny`, {}), 400, "invalid_request");
    expectError(await postJson(`${app.baseUrl}/api/auth/deny`, "{nope"), 400, "invalid_request");
    expectError(
      await postJson(`${app.baseUrl}/api/auth/deny`, { sessionId: "A".repeat(22), x: 1 }),
      400,
      "invalid_request",
    );
  });
});
