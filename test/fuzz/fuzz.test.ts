/**
 * Property-based fuzzing of every outside input (issue 11 item 3), against one real server in
 * this process (API and Socket.IO, SQLite, memory stores), with fast-check:
 * - random and mutated bodies, methods, headers and content types for every JSON endpoint;
 * - random payloads for every socket event (and unknown ones), and random raw Socket.IO packets;
 * - random signed and unsigned Pusher REST requests;
 * - random and mutated EIP-4361 messages, really signed, to POST /api/auth.
 * Every answer must be a 2xx or a documented 4xx (`{"error":{"code","message"}}` with a code of
 * lib/protocol/errors.ts), within REQUEST_TIMEOUT_MS; every socket event with an ack is acked
 * `{ok: true}` or `{ok: false, error: {code}}` with such a code; the server keeps answering; and
 * nothing is logged above warn. Run counts are fixed and small: the whole file takes well under
 * a minute. A failure prints fast-check's seed and the shrunk input; rerun with that seed.
 */
import { Writable } from "node:stream";
import fc from "fast-check";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ERROR_STATUS } from "../../lib/protocol/errors";
import { formatSiweMessage } from "../../lib/protocol/siwe";
import type { LoginRequest, StartedSession } from "../../lib/protocol/login";
import { createWalletKey } from "../../lib/wallet";
import { signRestRequest, type AppCredentials } from "../../server/channels/signing";
import { createLogger } from "../../server/logger";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { logIn } from "../protocol/helpers";

const REQUEST_TIMEOUT_MS = 5_000;
const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
const CODES = new Set(Object.keys(ERROR_STATUS));

let app: TestApp;
let credentials: AppCredentials;
let accessToken: string;
const logged: Array<{ level: number; msg?: string; [key: string]: unknown }> = [];

beforeAll(async () => {
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n")) if (line) logged.push(JSON.parse(line));
      done();
    },
  });
  app = await startTestApp({ RATE_LIMIT_SUBSCRIBE_PER_SOCKET: "1000000" }, { log: createLogger("warn", sink) });
  credentials = app.ctx.channelCredentials;
  accessToken = (await logIn(app.baseUrl)).redeemed.accessToken;
});

afterAll(async () => {
  await app?.stop();
});

/** No line above warn (pino: warn 40, error 50, fatal 60) was logged by the server. */
function expectNothingAboveWarn() {
  expect(logged.filter((line) => line.level > 40)).toEqual([]);
}

interface Answer {
  status: number;
  text: string;
}

async function send(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}) {
  const hasBody = init.body !== undefined && method !== "GET" && method !== "HEAD";
  let response: Response;
  try {
    response = await fetch(`${app.baseUrl}${path}`, {
      method,
      headers: init.headers,
      body: hasBody ? init.body : undefined,
      redirect: "manual",
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch (error) {
    throw new Error(`${method} ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`, { cause: error });
  }
  const answer: Answer = { status: response.status, text: await response.text() };
  expectDocumented(answer, `${method} ${path}`);
  return answer;
}

/** A 2xx, or a 4xx with the error body and a code of the contract. Never a 5xx. */
function expectDocumented({ status, text }: Answer, label: string) {
  const summary = `${label} -> ${status} ${text.slice(0, 300)}`;
  expect((status >= 200 && status < 300) || (status >= 400 && status < 500), summary).toBe(true);
  if (status < 400) return;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`not JSON: ${summary}`);
  }
  const error = (body as { error?: { code?: unknown; message?: unknown } }).error;
  expect(typeof error?.code === "string" && CODES.has(error.code), summary).toBe(true);
  expect(typeof error?.message, summary).toBe("string");
}

/** A path segment; a lone surrogate (which encodeURIComponent refuses) goes as a raw escape. */
function encodePart(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return "%ED%A0%80";
  }
}

// ---- arbitraries ----

/** Names that meet Object.prototype, empty and odd text. */
const nastyString = fc.constantFrom(
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "",
  " ",
  "\u0000",
  "\ud800",
  "😀",
  "../../etc/passwd",
  "%00",
  "%E0%A4%A",
  "0x",
  "null",
  "1e309",
  "-1",
);
const someString = fc.oneof(fc.string({ maxLength: 80 }), nastyString, fc.string({ unit: "grapheme", maxLength: 40 }));
const someJson = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  { weight: 1, arbitrary: someString },
  { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2, [], {}) },
);

/** A template body with one field changed, removed, or added (a prototype name among them). */
function mutated(template: Record<string, unknown>) {
  const keys = Object.keys(template).length > 0 ? Object.keys(template) : ["field"];
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), someJson).map(([key, value]) => ({ ...template, [key]: value })),
    fc.constantFrom(...keys).map((key) => {
      const copy = { ...template };
      delete copy[key];
      return copy;
    }),
    fc.tuple(fc.oneof(nastyString, fc.string({ maxLength: 10 })), someJson).map(([key, value]) => {
      const copy: Record<string, unknown> = { ...template };
      Object.defineProperty(copy, key, { value, enumerable: true, configurable: true, writable: true });
      return copy;
    }),
  );
}

/** How a body goes on the wire: JSON, JSON cut short, other text; under a random content type. */
function encoded(body: fc.Arbitrary<unknown>) {
  return fc
    .tuple(
      body,
      fc.constantFrom("json", "json", "json", "truncated", "form", "raw"),
      fc.constantFrom(
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        undefined,
      ),
      fc.string({ maxLength: 40 }),
    )
    .map(([value, form, contentType, raw]) => {
      const json = JSON.stringify(value) ?? "null";
      const text =
        form === "json"
          ? json
          : form === "truncated"
            ? json.slice(0, Math.max(0, json.length - 3))
            : form === "form"
              ? new URLSearchParams(
                  typeof value === "object" && value !== null
                    ? Object.entries(value).map(([k, v]) => [k, String(v)])
                    : [],
                ).toString()
              : raw;
      return { text, contentType };
    });
}

const sessionId = fc.oneof(fc.constant("A".repeat(22)), fc.base64String({ maxLength: 30 }), someString);
const bearer = () =>
  fc.constantFrom(`Bearer ${accessToken}`, "Bearer x.y.z", "Basic abc", "", `Bearer ${"a".repeat(5000)}`);

interface Endpoint {
  method: string;
  path: fc.Arbitrary<string>;
  body?: Record<string, unknown>;
  auth?: boolean;
}

const ENDPOINTS: Endpoint[] = [
  {
    method: "POST",
    path: fc.constant("/api/auth"),
    body: { sessionId: "A".repeat(22), message: "x", signature: `0x${"1".repeat(130)}`, matchCode: "12" },
  },
  { method: "POST", path: fc.constant("/api/auth/deny"), body: { sessionId: "A".repeat(22) } },
  {
    method: "POST",
    path: fc.constant("/api/auth/redeem"),
    body: { sessionId: "A".repeat(22), browserSecret: "B".repeat(43), code: "C".repeat(43) },
  },
  { method: "POST", path: fc.constant("/api/auth/refresh"), body: {} },
  { method: "POST", path: fc.constant("/api/auth/logout"), body: {} },
  {
    method: "POST",
    path: fc.constant("/api/channel-auth"),
    body: { socket_id: "1.2", channel_name: "private-x" },
    auth: true,
  },
  { method: "POST", path: fc.constant("/api/notifications/test"), body: { text: "hi" }, auth: true },
  { method: "POST", path: fc.constant("/api/apps"), body: { name: "fuzz" }, auth: true },
  { method: "POST", path: someString.map((id) => `/api/apps/${encodePart(id)}/disable`), body: {}, auth: true },
  {
    method: "POST",
    path: fc.constantFrom("/api/data/users", "/api/data/logins", "/api/data/nothing", "/api/data/"),
    body: {
      message: { appId: "app", iat: 1, exp: 2, metaData: { limit: 20, page: 1 } },
      fyresign: `0x${"1".repeat(130)}`,
      messageHash: `0x${"2".repeat(64)}`,
    },
  },
  { method: "GET", path: sessionId.map((id) => `/api/login/requests/${encodePart(id)}`) },
  { method: "GET", path: sessionId.map((id) => `/api/login/sessions/${encodePart(id)}`) },
  { method: "GET", path: fc.constantFrom("/api/me", "/api/apps"), auth: true },
  { method: "GET", path: fc.constantFrom("/.well-known/jwks.json", "/api/health", "/.well-known/x") },
  { method: "GET", path: fc.webPath().map((p) => `/api/${p.replace(/^\//, "")}`) },
];

describe("fuzz: HTTP API", () => {
  it("answers random and mutated requests to every JSON endpoint with a 2xx or a documented 4xx", async () => {
    const request = fc.oneof(
      ...ENDPOINTS.map((endpoint) =>
        fc.record({
          endpoint: fc.constant(endpoint),
          method: fc.oneof(
            { weight: 4, arbitrary: fc.constant(endpoint.method) },
            fc.constantFrom("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"),
          ),
          path: endpoint.path,
          body: encoded(endpoint.body ? fc.oneof(mutated(endpoint.body), someJson) : someJson),
          authorization: endpoint.auth ? bearer() : fc.constant(undefined),
          origin: fc.constantFrom(undefined, app.baseUrl, "https://evil.example", "null"),
          extra: fc.dictionary(
            fc.constantFrom("x-browser-secret", "cookie", "x-forwarded-for", "x-request-id", "accept"),
            someString,
            { maxKeys: 2 },
          ),
        }),
      ),
    );
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, body, authorization, origin, extra }) => {
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(extra)) if (/^[\t\x20-\x7e]*$/.test(value)) headers[name] = value;
        if (body.contentType) headers["content-type"] = body.contentType;
        if (authorization) headers.authorization = authorization;
        if (origin) headers.origin = origin;
        await send(method, path, { headers, body: body.text });
      }),
      { numRuns: RUNS * 6 },
    );
    expectNothingAboveWarn();
  });

  it("refuses bodies over the limit without a 5xx", async () => {
    for (const path of ["/api/auth", "/api/data/users", `/apps/${credentials.appId}/events`]) {
      const answer = await send("POST", path, {
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ pad: "x".repeat(300 * 1024) }),
      });
      expect([401, 413], path).toContain(answer.status);
    }
    expectNothingAboveWarn();
  });
});

describe("fuzz: Pusher REST API", () => {
  const channel = fc.oneof(
    fc.constantFrom("news", "presence-lobby", "private-x", "__proto__", "constructor"),
    someString,
  );
  const params = fc.dictionary(
    fc.constantFrom("info", "filter_by_prefix", "auth_key", "auth_timestamp", "auth_version", "body_md5", "x"),
    someString,
    { maxKeys: 3 },
  );
  const eventBody = {
    name: "e",
    data: "{}",
    channels: ["news"],
    channel: "news",
    socket_id: "1.2",
    info: "subscription_count",
  };

  it("answers signed and unsigned random requests with a 2xx or a documented 4xx", async () => {
    const request = fc.record({
      method: fc.constantFrom("GET", "POST"),
      path: fc.oneof(
        fc.constant(`/apps/${credentials.appId}/events`),
        fc.constant(`/apps/${credentials.appId}/batch_events`),
        fc.constant(`/apps/${credentials.appId}/channels`),
        channel.map((c) => `/apps/${credentials.appId}/channels/${encodePart(c)}`),
        channel.map((c) => `/apps/${credentials.appId}/channels/${encodePart(c)}/users`),
        someString.map((u) => `/apps/${credentials.appId}/users/${encodePart(u)}/terminate_connections`),
        someString.map((id) => `/apps/${encodePart(id)}/events`),
      ),
      params,
      body: fc.oneof(
        mutated(eventBody).map((b) => JSON.stringify(b)),
        fc
          .array(mutated({ name: "e", data: "{}", channel: "news" }), { maxLength: 12 })
          .map((batch) => JSON.stringify({ batch })),
        someJson.map((v) => JSON.stringify(v) ?? ""),
        fc.string({ maxLength: 50 }),
      ),
      isSigned: fc.boolean(),
      skew: fc.constantFrom(0, 0, 0, 700, -700),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ method, path, params: extra, body, isSigned, skew }) => {
        const sendBody = method === "POST" ? body : undefined;
        let query: Record<string, string> = extra;
        if (isSigned) {
          const textParams = Object.fromEntries(
            Object.entries(extra).filter(([key]) => !key.startsWith("auth_") && key !== "body_md5"),
          );
          query = signRestRequest(credentials, {
            method,
            path,
            params: textParams,
            body: sendBody,
            timestamp: Math.floor(Date.now() / 1000) + skew,
          });
        }
        const search = new URLSearchParams(query).toString();
        await send(method, `${path}?${search}`, {
          headers: sendBody === undefined ? {} : { "content-type": "application/json" },
          body: sendBody,
        });
      }),
      { numRuns: RUNS * 3 },
    );
    expectNothingAboveWarn();
  });
});

function connect(): Promise<Socket> {
  const socket = io(app.baseUrl, {
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve, reject) => {
    socket.once("connection:established", () => resolve(socket));
    socket.once("connect_error", reject);
  });
}

/** Acked in time with {ok: true, ...} or {ok: false, error: {code}} of the contract. */
async function expectDocumentedAck(socket: Socket, event: string, payload: unknown[]) {
  let ack: unknown;
  try {
    ack = await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck(event, ...payload);
  } catch (error) {
    throw new Error(`${event} ${JSON.stringify(payload).slice(0, 200)}: no ack`, { cause: error });
  }
  const summary = `${event} ${JSON.stringify(payload).slice(0, 200)} -> ${JSON.stringify(ack).slice(0, 300)}`;
  const value = ack as { ok?: unknown; error?: { code?: unknown } };
  expect(typeof value.ok, summary).toBe("boolean");
  if (value.ok === false) expect(CODES.has(String(value.error?.code)), summary).toBe(true);
}

describe("fuzz: Socket.IO", () => {
  const events = ["login:start", "login:resume", "login:cancel", "channel:subscribe", "channel:unsubscribe"];
  const templates: Record<string, Record<string, unknown>> = {
    "login:start": { requiredClaims: ["age_over_18"] },
    "login:resume": { sessionId: "A".repeat(22), browserSecret: "B".repeat(43) },
    "login:cancel": { sessionId: "A".repeat(22), browserSecret: "B".repeat(43) },
    "channel:subscribe": { channel: "presence-x", auth: "k:sig", channel_data: '{"user_id":"u"}' },
    "channel:unsubscribe": { channel: "news" },
  };

  it("acks random payloads of every event with {ok} or a documented code", async () => {
    const socket = await connect();
    try {
      const call = fc.oneof(
        ...events.map((event) =>
          fc.record({
            event: fc.constant(event),
            payload: fc.oneof(
              mutated(templates[event]!).map((p) => [p]),
              fc.array(someJson, { maxLength: 3 }),
              fc.uint8Array({ maxLength: 64 }).map((bytes) => [Buffer.from(bytes)]),
            ),
          }),
        ),
      );
      await fc.assert(
        fc.asyncProperty(call, async ({ event, payload }) => {
          if (!socket.connected) throw new Error("the server dropped a socket over a payload");
          await expectDocumentedAck(socket, event, payload);
        }),
        { numRuns: RUNS * 4 },
      );
      // Unknown events and events without an ack are ignored; a known one after them is still acked.
      for (const name of ["__proto__", "constructor", "login:state", "x".repeat(300), "channel:event"]) {
        socket.emit(name, { a: 1 });
      }
      socket.emit("login:start", {});
      await expectDocumentedAck(socket, "channel:unsubscribe", [{ channel: "news" }]);
    } finally {
      socket.disconnect();
    }
    expectNothingAboveWarn();
  });

  it("survives random raw Socket.IO packets; the server keeps serving others", async () => {
    const packet = fc.oneof(
      fc.string({ maxLength: 120 }),
      fc
        .tuple(fc.constantFrom("0", "1", "2", "3", "4", "5", "6", "42", "43", "451-", "2[", "0/x,"), fc.json())
        .map(([prefix, json]) => `${prefix}${json}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(packet, { minLength: 1, maxLength: 5 }), async (packets) => {
        const socket = await connect();
        try {
          const engine = (socket.io as unknown as { engine: { send(data: string): void } }).engine;
          for (const text of packets) engine.send(text);
          // A fence: the server answers an ordinary request after reading those packets.
          await send("GET", "/api/health");
        } finally {
          socket.disconnect();
        }
      }),
      { numRuns: RUNS },
    );
    const socket = await connect();
    await expectDocumentedAck(socket, "channel:unsubscribe", [{ channel: "news" }]);
    socket.disconnect();
    expectNothingAboveWarn();
  });
});

describe("fuzz: EIP-4361 answers to POST /api/auth", () => {
  /** A fresh session the wallet has scanned: its request and the code the page shows. */
  async function scannedSession(socket: Socket) {
    const ack = (await socket.timeout(REQUEST_TIMEOUT_MS).emitWithAck("login:start", {})) as {
      ok: boolean;
      session: StartedSession;
    };
    const response = await fetch(ack.session.qr, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    return { session: ack.session, request: (await response.json()) as LoginRequest };
  }

  const lineEdit = fc.record({
    kind: fc.constantFrom("replace", "insert", "delete", "value", "truncate", "char"),
    at: fc.nat(),
    text: fc.oneof(someString, fc.string({ unit: "binary", maxLength: 30 })),
  });

  /** ethers refuses to sign text with a lone surrogate; such a message goes with a signature of nothing. */
  const key = createWalletKey();
  const signAnyway = (message: string) => key.signMessage(message).catch(() => `0x${"1".repeat(130)}`);

  it("answers really signed, randomly changed messages with a 2xx or a documented 4xx", async () => {
    const socket = await connect();
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(lineEdit, { maxLength: 3 }), fc.boolean(), async (edits, rightCode) => {
          const { session, request } = await scannedSession(socket);
          let message = formatSiweMessage({
            domain: request.domain,
            address: key.address,
            statement: request.statement,
            uri: request.uri,
            version: request.version,
            chainId: request.chainId,
            nonce: request.nonce,
            issuedAt: new Date().toISOString(),
            expirationTime: request.expirationTime,
            requestId: request.requestId,
          });
          for (const edit of edits) {
            const lines = message.split("\n");
            const i = edit.at % lines.length;
            if (edit.kind === "replace") lines[i] = edit.text;
            else if (edit.kind === "insert") lines.splice(i, 0, edit.text);
            else if (edit.kind === "delete") lines.splice(i, 1);
            else if (edit.kind === "value") lines[i] = `${(lines[i] ?? "").split(": ")[0]}: ${edit.text}`;
            else if (edit.kind === "truncate") lines.length = i;
            else
              lines[i] =
                `${(lines[i] ?? "").slice(0, edit.at % 20)}${edit.text}${(lines[i] ?? "").slice((edit.at % 20) + 1)}`;
            message = lines.join("\n");
          }
          if (message === "") message = " ";
          const matchCode = rightCode ? session.matchCode : String(((Number(session.matchCode) - 9) % 90) + 10);
          const body = { sessionId: session.sessionId, message, signature: await signAnyway(message), matchCode };
          await send("POST", "/api/auth", {
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
        }),
        { numRuns: RUNS },
      );
    } finally {
      socket.disconnect();
    }
    expectNothingAboveWarn();
  });
});
