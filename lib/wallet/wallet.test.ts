import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { getAddress, verifyMessage } from "ethers";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { LoginRequest } from "../protocol/login";
import { parseSiweMessage } from "../protocol/siwe";
import {
  WalletError,
  approveLogin,
  buildLoginMessage,
  createWalletKey,
  denyLogin,
  fetchLoginRequest,
  importWalletKey,
} from "./index";

// Well-known test vector (the first Hardhat account); never holds real funds.
const TEST_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
const TEST_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";

const SESSION_ID = "AAAAAAAAAAAAAAAAAAAAAA";
const EXPIRED_ID = "BBBBBBBBBBBBBBBBBBBBBB";
const MISSING_ID = "CCCCCCCCCCCCCCCCCCCCCC";
const FOREIGN_ID = "DDDDDDDDDDDDDDDDDDDDDD";
const BROKEN_ID = "EEEEEEEEEEEEEEEEEEEEEE";
const MATCH_CODE = "42";

/** A stand-in for the app's wallet-facing endpoints: records what it got, answers per docs/protocol.md. */
function startFakeApp() {
  const received: { method: string; path: string; body: unknown }[] = [];
  let origin = "";

  const sendJson = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  };
  const sendError = (res: ServerResponse, status: number, code: string) =>
    sendJson(res, status, { error: { code, message: `fake ${code}` } });

  const makeRequest = (sessionId: string): LoginRequest => {
    const host = new URL(origin).host;
    return {
      sessionId,
      appName: "Test App",
      domain: sessionId === FOREIGN_ID ? "bank.example" : host,
      uri: origin,
      version: "1",
      chainId: 1,
      nonce: "n0nceN0nce123456",
      issuedAt: new Date(Date.now() - 1000).toISOString(),
      expirationTime: new Date(Date.now() + 120_000).toISOString(),
      statement: "Sign in to Test App",
      requestId: sessionId,
      responseUri: `${origin}/api/auth`,
      matchMode: "choose",
      matchChoices: ["17", MATCH_CODE, "86"],
      requiredClaims: [],
    };
  };

  const readBody = async (req: IncomingMessage): Promise<unknown> => {
    let text = "";
    for await (const chunk of req) text += String(chunk);
    return text ? JSON.parse(text) : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "";
    const body = req.method === "POST" ? await readBody(req) : undefined;
    received.push({ method: req.method ?? "", path, body });
    const requestMatch = /^\/api\/login\/requests\/([^/]+)$/.exec(path);
    if (req.method === "GET" && requestMatch) {
      const id = requestMatch[1] ?? "";
      if (id === EXPIRED_ID) return sendError(res, 410, "session_expired");
      if (id === MISSING_ID) return sendError(res, 404, "session_not_found");
      if (id === BROKEN_ID) return res.writeHead(502, { "content-type": "text/html" }).end("<h1>Bad gateway</h1>");
      return sendJson(res, 200, makeRequest(id));
    }
    if (req.method === "POST" && path === "/api/auth") {
      const auth = body as { sessionId: string; message: string; signature: string; matchCode: string };
      if (auth.matchCode !== MATCH_CODE) return sendError(res, 401, "wrong_match_code");
      const parsed = parseSiweMessage(auth.message);
      if (!parsed.ok) return sendError(res, 400, "invalid_request");
      if (verifyMessage(auth.message, auth.signature) !== parsed.message.address) {
        return sendError(res, 401, "invalid_signature");
      }
      return sendJson(res, 200, { ok: true, state: "approved" });
    }
    if (req.method === "POST" && path === "/api/auth/deny") return sendJson(res, 200, { ok: true, state: "denied" });
    sendError(res, 404, "not_found");
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => sendError(res, 500, "internal_error"));
  });
  return new Promise<{ server: Server; origin: string; received: typeof received }>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      resolve({ server, origin, received });
    });
  });
}

let app: Awaited<ReturnType<typeof startFakeApp>>;
const qrFor = (sessionId: string) => `${app.origin}/api/login/requests/${sessionId}`;

beforeAll(async () => {
  app = await startFakeApp();
});
afterAll(() => new Promise<void>((resolve) => app.server.close(() => resolve())));
beforeEach(() => {
  app.received.length = 0;
});

async function expectWalletError(promise: Promise<unknown>, code: string, status?: number) {
  const error = await promise.then(
    () => expect.unreachable("expected a WalletError"),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(WalletError);
  expect(error).toMatchObject({ code, status });
}

describe("wallet keys", () => {
  it("creates distinct keys with checksummed addresses", () => {
    const a = createWalletKey();
    const b = createWalletKey();
    expect(a.address).toBe(getAddress(a.address));
    expect(a.privateKey).toMatch(/^0x[0-9a-f]{64}$/);
    expect(a.address).not.toBe(b.address);
  });

  it("imports a key with or without 0x", () => {
    expect(importWalletKey(TEST_KEY).address).toBe(TEST_ADDRESS);
    expect(importWalletKey(TEST_KEY.slice(2)).address).toBe(TEST_ADDRESS);
  });

  it("refuses keys that are not 32 bytes or not on the curve", () => {
    expect(() => importWalletKey("0x1234")).toThrow(WalletError);
    expect(() => importWalletKey(`0x${"0".repeat(64)}`)).toThrow(WalletError);
  });

  it("signs with EIP-191 personal_sign", async () => {
    const key = createWalletKey();
    const signature = await key.signMessage("hello");
    expect(signature).toMatch(/^0x[0-9a-f]{130}$/);
    expect(verifyMessage("hello", signature)).toBe(key.address);
  });
});

describe("fetchLoginRequest", () => {
  it("fetches and validates the request the QR points to", async () => {
    const request = await fetchLoginRequest(qrFor(SESSION_ID));
    expect(request).toMatchObject({ sessionId: SESSION_ID, appName: "Test App", matchChoices: ["17", "42", "86"] });
    expect(app.received).toEqual([{ method: "GET", path: `/api/login/requests/${SESSION_ID}`, body: undefined }]);
  });

  it.each([
    ["not a URL", "hello"],
    ["another scheme", `ftp://127.0.0.1/api/login/requests/${SESSION_ID}`],
    ["another path", `http://127.0.0.1/api/other/${SESSION_ID}`],
    ["a malformed session id", "http://127.0.0.1/api/login/requests/short"],
    ["credentials in the URL", `http://user:pw@127.0.0.1/api/login/requests/${SESSION_ID}`],
  ])("rejects %s without a request", async (_label, qr) => {
    await expectWalletError(fetchLoginRequest(qr), "invalid_qr");
    expect(app.received).toEqual([]);
  });

  it("maps protocol error bodies to WalletError codes and statuses", async () => {
    await expectWalletError(fetchLoginRequest(qrFor(EXPIRED_ID)), "session_expired", 410);
    await expectWalletError(fetchLoginRequest(qrFor(MISSING_ID)), "session_not_found", 404);
    await expectWalletError(fetchLoginRequest(qrFor(BROKEN_ID)), "http_error", 502);
  });

  it("refuses a request that speaks for another domain than the QR's", async () => {
    await expectWalletError(fetchLoginRequest(qrFor(FOREIGN_ID)), "domain_mismatch");
  });

  it("reports an unreachable server as network_error", async () => {
    const failingFetch: typeof fetch = () => Promise.reject(new TypeError("fetch failed"));
    await expectWalletError(fetchLoginRequest(qrFor(SESSION_ID), { fetch: failingFetch }), "network_error");
  });
});

describe("buildLoginMessage", () => {
  it("parses back to the request's fields, with the wallet's address and time", async () => {
    const request = await fetchLoginRequest(qrFor(SESSION_ID));
    const now = new Date("2030-01-02T03:04:05.678Z");
    const parsed = parseSiweMessage(buildLoginMessage(request, TEST_ADDRESS, now));
    expect(parsed).toEqual({
      ok: true,
      message: {
        domain: request.domain,
        address: TEST_ADDRESS,
        statement: request.statement,
        uri: request.uri,
        version: "1",
        chainId: request.chainId,
        nonce: request.nonce,
        issuedAt: "2030-01-02T03:04:05.678Z",
        expirationTime: request.expirationTime,
        requestId: request.requestId,
      },
    });
  });

  it("refuses a request whose statement would add lines to the signed text", async () => {
    const request = await fetchLoginRequest(qrFor(SESSION_ID));
    const hostile = { ...request, statement: "Sign in\nURI: https://evil.example" };
    expect(() => buildLoginMessage(hostile, TEST_ADDRESS)).toThrow(WalletError);
  });
});

describe("approveLogin and denyLogin", () => {
  it("posts exactly sessionId, message, signature and matchCode to responseUri", async () => {
    const request = await fetchLoginRequest(qrFor(SESSION_ID));
    const key = importWalletKey(TEST_KEY);
    app.received.length = 0;
    await expect(approveLogin({ key, request, matchCode: MATCH_CODE })).resolves.toEqual({
      ok: true,
      state: "approved",
    });
    expect(app.received).toHaveLength(1);
    const { method, path, body } = app.received[0]!;
    expect([method, path]).toEqual(["POST", "/api/auth"]);
    expect(Object.keys(body as object).sort()).toEqual(["matchCode", "message", "sessionId", "signature"]);
    const auth = body as { sessionId: string; message: string; signature: string; matchCode: string };
    expect(auth.sessionId).toBe(SESSION_ID);
    expect(auth.matchCode).toBe(MATCH_CODE);
    expect(verifyMessage(auth.message, auth.signature)).toBe(TEST_ADDRESS);
  });

  it("sends the presentation when there is one", async () => {
    const request = await fetchLoginRequest(qrFor(SESSION_ID));
    app.received.length = 0;
    await approveLogin({ key: createWalletKey(), request, matchCode: MATCH_CODE, presentation: "sd-jwt~" });
    expect(app.received[0]?.body).toMatchObject({ presentation: "sd-jwt~" });
  });

  it("throws the server's code and status when the approval is refused", async () => {
    const request = await fetchLoginRequest(qrFor(SESSION_ID));
    await expectWalletError(
      approveLogin({ key: createWalletKey(), request, matchCode: "17" }),
      "wrong_match_code",
      401,
    );
  });

  it("denies with only the session id at /api/auth/deny", async () => {
    const request = await fetchLoginRequest(qrFor(SESSION_ID));
    app.received.length = 0;
    await expect(denyLogin(request)).resolves.toEqual({ ok: true, state: "denied" });
    expect(app.received).toEqual([{ method: "POST", path: "/api/auth/deny", body: { sessionId: SESSION_ID } }]);
  });
});
