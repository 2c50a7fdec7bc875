/**
 * docs/protocol.md is tested: every ```http request and ```socket.io event in it is sent to a
 * real server (API and Socket.IO, SQLite, memory stores) and the answer compared with the one
 * documented beside it (conventions in ./doc-examples.ts and in the document itself). Its
 * error table must list every code of lib/protocol/errors.ts with its status, and every route
 * and socket event the server has must be named in it, so the document cannot drift from the code.
 *
 * To add an example: write the request block (```http) and its answer block (```http starting
 * `HTTP/1.1 <status>`), or an `emit`/`on` block (```socket.io) and its ack (```json), in the
 * document under a `<!-- flow: name -->` (new or existing; `; env: KEY=value` for a server of
 * its own). When it needs something the document cannot show (a wallet's signature, a
 * signed-in user), add a fixture to FIXTURES below and name it in `<!-- before: name -->`.
 */
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import path from "node:path";
import { Wallet, hashMessage, hexlify, randomBytes } from "ethers";
import { io, type Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { issueCredential, presentCredential } from "../../lib/claims/credentials";
import { generatePrivateJwk, privateKeyHexOf, publicJwkOf } from "../../lib/claims/es256k";
import { ERROR_STATUS } from "../../lib/protocol/errors";
import type { LoginRequest } from "../../lib/protocol/login";
import type { ChallengeView, DeviceView, PushRequest } from "../../lib/protocol/push";
import { ALL_SOCKET_EVENTS } from "../../lib/protocol/socket-events";
import { createWalletKey, createAuthBody, importWalletKey, type WalletKey } from "../../lib/wallet";
import { createPushApproval, signDeviceChallenge, signPairingChallenge } from "../../lib/wallet";
import { generateDeliveryKey } from "../../lib/claims/delivery";
import { signWalletProof, thumbprintOf } from "../../lib/claims/wallet-proof";
import { PROOF_TYPES, walletChannel } from "../../lib/protocol/attestor";
import { createApiRouter } from "../../server/http/router";
import {
  allocateStatusIndex,
  createAttestor,
  readAttestorSigningKey,
  setCredentialStatus,
} from "../../server/claims/attestor-records";
import { DATA_PATH_PREFIX } from "../../server/http/routes/data";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { logIn } from "../protocol/helpers";
import {
  fillJson,
  fillText,
  matchValue,
  parseDocExamples,
  type DocExample,
  type HttpExample,
  type SocketExample,
  type Vars,
} from "./doc-examples";

const DOC_PATH = path.join(__dirname, "..", "..", "docs", "protocol.md");
const doc = readFileSync(DOC_PATH, "utf8");
const examples = parseDocExamples(doc);
const WAIT_MS = 10_000;

const ATTESTOR_ISS = "https://attestor.example";
const attestorJwk = generatePrivateJwk();

let app: TestApp;

/** One flow of the document: its values, its sockets, and the answers it got so far. */
interface FlowRun {
  /** The server this flow talks to: the shared one, or its own when it sets `env`. */
  app: TestApp;
  vars: Vars;
  sockets: Map<string, DocSocket>;
  answers: unknown[];
}

type Fixture = (flow: FlowRun) => Promise<void>;

/** The login request the wallet read last in this flow (a GET /api/login/requests answer). */
function lastLoginRequest(flow: FlowRun): LoginRequest {
  const request = [...flow.answers]
    .reverse()
    .find((answer): answer is LoginRequest => typeof answer === "object" && answer !== null && "responseUri" in answer);
  if (!request) throw new Error("the fixture needs a GET /api/login/requests/<sessionId> answer earlier in the flow");
  return request;
}

/**
 * An attestor hosted by the flow's server (`<attestorId>`), trusted, with one revoked credential
 * of its own (`<revokedCredential>`, bound to `<revokedHolderKey>`); made once per flow. A flow
 * that logs in with it has a server of its own (`env`), whose attestor cache is still empty.
 */
async function hostedAttestor(flow: FlowRun): Promise<void> {
  if (flow.vars.has("attestorId")) return;
  const db = flow.app.ctx.db;
  const attestor = await createAttestor(db, flow.app.dataDir, {
    name: "Doc attestor",
    publicUrl: flow.app.baseUrl,
    trusted: true,
  });
  const key = createWalletKey();
  const slot = await allocateStatusIndex(db, { attestorId: attestor.id, publicUrl: flow.app.baseUrl });
  await setCredentialStatus(db, slot.credentialId, "revoked");
  const signing = await readAttestorSigningKey(flow.app.dataDir, attestor);
  const credential = await issueCredential({
    issuer: { iss: attestor.issuer, privateKeyHex: privateKeyHexOf(signing) },
    holderJwk: publicJwkOf(key.privateKey),
    claims: { age_over_18: true },
    status: slot.status,
  });
  flow.vars.set("attestorId", attestor.id);
  flow.vars.set("revokedCredential", credential);
  flow.vars.set("revokedHolderKey", key.privateKey);
}

/** An outside attestor (known by its public key only, not trusted) of issuer `https://bank.example`: `<outsideAttestorId>`. */
async function outsideAttestor(flow: FlowRun): Promise<void> {
  const { d: _private, ...publicJwk } = generatePrivateJwk();
  const attestor = await createAttestor(flow.app.ctx.db, flow.app.dataDir, {
    name: "Outside bank",
    issuer: "https://bank.example",
    publicJwk,
  });
  flow.vars.set("outsideAttestorId", attestor.id);
}

/** The holder of the hosted attestor's revoked credential signs the last request and presents it. */
async function signWithRevokedCredential(flow: FlowRun): Promise<void> {
  await hostedAttestor(flow);
  const request = lastLoginRequest(flow);
  const key = importWalletKey(String(flow.vars.get("revokedHolderKey")));
  const presentation = await presentCredential({
    credential: String(flow.vars.get("revokedCredential")),
    disclose: request.requiredClaims,
    nonce: request.nonce,
    aud: request.uri,
    privateKeyHex: key.privateKey,
  });
  const body = await createAuthBody({ key, request, matchCode: String(flow.vars.get("matchCode")), presentation });
  flow.vars.set("message", body.message);
  flow.vars.set("signature", body.signature);
  flow.vars.set("presentation", presentation);
}

/** A wallet key signs the last login request: `<message>`, `<signature>`, `<address>`, `<wrongMatchCode>`. */
async function signAsWallet(flow: FlowRun, withClaims: boolean): Promise<void> {
  const request = lastLoginRequest(flow);
  const key = createWalletKey();
  const matchCode = String(flow.vars.get("matchCode"));
  const body = await createAuthBody({ key, request, matchCode });
  flow.vars.set("message", body.message);
  flow.vars.set("signature", body.signature);
  flow.vars.set("address", key.address);
  flow.vars.set(
    "wrongMatchCode",
    // In `type` mode (no choices) any other two digits.
    request.matchChoices.find((c) => c !== matchCode) ?? (matchCode === "42" ? "43" : "42"),
  );
  if (withClaims) flow.vars.set("presentation", await presentClaims(key, request));
}

async function presentClaims(key: WalletKey, request: LoginRequest): Promise<string> {
  const claims = Object.fromEntries(request.requiredClaims.map((name) => [name, true]));
  const credential = await issueCredential({
    issuer: { iss: ATTESTOR_ISS, privateKeyHex: privateKeyHexOf(attestorJwk) },
    holderJwk: publicJwkOf(key.privateKey),
    claims,
  });
  return presentCredential({
    credential,
    disclose: request.requiredClaims,
    nonce: request.nonce,
    aud: request.uri,
    privateKeyHex: key.privateKey,
  });
}

/** A user signed in through the whole login: its access token, user id and address under the names given. */
function signIn(names: { accessToken: string; userId: string; address: string }): Fixture {
  return async (flow) => {
    const { redeemed } = await logIn(flow.app.baseUrl);
    flow.vars.set(names.accessToken, redeemed.accessToken);
    flow.vars.set(names.userId, redeemed.user.id);
    flow.vars.set(names.address, redeemed.user.address);
  };
}

/**
 * The partner signs a data message with `<privateKey>` for `<appId>`, its times `iat` and `exp`
 * seconds from now: `<signedMessage>`, `<fyresign>`, `<messageHash>`.
 */
function partnerSigns(iat: number, exp: number): Fixture {
  return async (flow) => {
    const now = Math.floor(Date.now() / 1000);
    const message = {
      appId: flow.vars.get("appId"),
      iat: now + iat,
      exp: now + exp,
      nonce: hexlify(randomBytes(8)),
      metaData: { limit: 20, page: 1 },
    };
    const text = JSON.stringify(message);
    flow.vars.set("signedMessage", message);
    flow.vars.set("fyresign", new Wallet(String(flow.vars.get("privateKey"))).signMessageSync(text));
    flow.vars.set("messageHash", hashMessage(text));
  };
}

/** The attestor flow's admin (ADMIN_ADDRESSES in its env names this key's address). */
const ATTESTOR_ADMIN_KEY = importWalletKey(`0x${"a1".repeat(32)}`);

/** The wallet of the attestor flow: signed in here once (so member_since has a value), `<walletChannel>`. */
const attestorWallet: Fixture = async (flow) => {
  const { key } = await logIn(flow.app.baseUrl);
  flow.vars.set("walletKey", key);
  flow.vars.set("walletChannel", walletChannel(await thumbprintOf(publicJwkOf(key.privateKey))));
};

const walletKeyOf = (flow: FlowRun) => flow.vars.get("walletKey") as WalletKey;
const attestorIss = (flow: FlowRun) => `${flow.app.baseUrl}/attestor`;

/** The wallet proves its key for `<socketId>` and `<walletChannel>`: `<channelProof>`. */
const walletSignsChannel: Fixture = async (flow) => {
  flow.vars.set(
    "channelProof",
    signWalletProof(walletKeyOf(flow).privateKey, PROOF_TYPES.channel, {
      aud: attestorIss(flow),
      iat: Math.floor(Date.now() / 1000),
      socket_id: flow.vars.get("socketId"),
      channel: flow.vars.get("walletChannel"),
    }),
  );
};

/** The wallet asks for `claims` over the challenge `<nonceVar>`: `<requestProof>`. */
function walletAsks(nonceVar: string, claims: string[], email?: string): Fixture {
  return async (flow) => {
    const delivery = await generateDeliveryKey();
    flow.vars.set(
      "requestProof",
      signWalletProof(walletKeyOf(flow).privateKey, PROOF_TYPES.request, {
        aud: attestorIss(flow),
        iat: Math.floor(Date.now() / 1000),
        nonce: flow.vars.get(nonceVar),
        claims,
        ...(email === undefined ? {} : { email }),
        delivery_jwk: delivery.publicJwk,
      }),
    );
  };
}

/** The wallet key of each flow's paired device (devicePaired). */
const deviceKeys = new WeakMap<FlowRun, WalletKey>();

function deviceKeyOf(flow: FlowRun): WalletKey {
  const key = deviceKeys.get(flow);
  if (!key) throw new Error("the fixture needs devicePaired earlier in the flow");
  return key;
}

/** A wallet paired as a device named "Phone" (section 5.1, with a real signature): `<deviceId>`, `<deviceAddress>`. */
async function pairDevice(flow: FlowRun): Promise<void> {
  const key = createWalletKey();
  const base = flow.app.baseUrl;
  const post = async (path: string, body: unknown) =>
    (await fetch(`${base}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    }).then((r) => r.json())) as unknown;
  const challenge = (await post("/api/devices/challenge", { address: key.address })) as ChallengeView;
  const signed = await signPairingChallenge(key, challenge, new URL(base).host);
  const { device } = (await post("/api/devices", { ...signed, name: "Phone" })) as { device: DeviceView };
  deviceKeys.set(flow, key);
  flow.vars.set("deviceId", device.id);
  flow.vars.set("deviceAddress", key.address);
}

/** The device signs the `device:challenge` it got last: `<deviceSignature>`. */
async function signAsDevice(flow: FlowRun): Promise<void> {
  const challenge = flow.answers.at(-1) as ChallengeView;
  const signed = await signDeviceChallenge(deviceKeyOf(flow), challenge, new URL(flow.app.baseUrl).host);
  flow.vars.set("deviceSignature", signed.signature);
}

/** The device signs the push it opened last (`push:open`'s ack) with `<matchCode>`: `<pushMessage>`, `<pushSignature>`. */
async function approveAsDevice(flow: FlowRun): Promise<void> {
  const opened = [...flow.answers]
    .reverse()
    .find(
      (answer): answer is { request: PushRequest } =>
        typeof answer === "object" && answer !== null && "request" in answer,
    );
  if (!opened) throw new Error("the fixture needs a push:open ack earlier in the flow");
  const { request } = opened;
  const matchCode = String(flow.vars.get("matchCode"));
  const approval = await createPushApproval({ key: deviceKeyOf(flow), request, matchCode });
  flow.vars.set("pushMessage", approval.message);
  flow.vars.set("pushSignature", approval.signature);
}

/** Set-up steps the document names in `<!-- before: name -->`. */
const FIXTURES = new Map<string, Fixture>([
  ["walletSigns", (flow) => signAsWallet(flow, false)],
  ["walletSignsWithClaims", (flow) => signAsWallet(flow, true)],
  ["devicePaired", pairDevice],
  ["deviceSigns", signAsDevice],
  ["deviceApproves", approveAsDevice],
  ["hostedAttestor", hostedAttestor],
  ["outsideAttestor", outsideAttestor],
  ["walletSignsWithRevokedCredential", signWithRevokedCredential],
  ["signedIn", signIn({ accessToken: "userAccessToken", userId: "userId", address: "userAddress" })],
  ["secondUserSignedIn", signIn({ accessToken: "bobAccessToken", userId: "bobUserId", address: "bobAddress" })],
  [
    "adminSignedIn",
    async (flow) => {
      const { redeemed } = await logIn(flow.app.baseUrl, ATTESTOR_ADMIN_KEY);
      flow.vars.set("adminAccessToken", redeemed.accessToken);
      flow.vars.set("adminAddress", redeemed.user.address);
    },
  ],
  ["attestorWallet", attestorWallet],
  ["walletSignsChannel", walletSignsChannel],
  ["walletAsksMemberSince", walletAsks("nonce", ["member_since"])],
  ["walletAsksAgeOver18", walletAsks("otherNonce", ["age_over_18"])],
  ["walletAsksVerifiedEmail", walletAsks("emailNonce", ["verified_email"], "ada@example.com")],
  ["walletAsksVerifiedEmailAgain", walletAsks("lastNonce", ["verified_email"], "ada@example.com")],
  ["partnerSigns", partnerSigns(0, 300)],
  ["partnerSignsExpired", partnerSigns(-600, -300)],
  ["partnerSignsLongWindow", partnerSigns(0, 90_000)],
  // Over the 16 KiB body limit with its JSON around it, and over Pusher's 10 KB event data.
  ["oversizedText", async (flow) => void flow.vars.set("oversizedText", "a".repeat(17_000))],
]);

/** A Socket.IO client that records every push, so `on` examples can match one that already came. */
class DocSocket {
  readonly socket: Socket;
  private readonly pushes: Array<{ event: string; payload: unknown; isTaken: boolean }> = [];
  private readonly waiters = new Set<() => void>();

  constructor(baseUrl: string) {
    this.socket = io(baseUrl, { path: "/socket.io", transports: ["websocket"], reconnection: false, forceNew: true });
    this.socket.onAny((event: string, payload: unknown) => {
      this.pushes.push({ event, payload, isTaken: false });
      for (const wake of this.waiters) wake();
    });
  }

  /** The first push of `event` not yet taken for which `accept` holds, waiting up to WAIT_MS for it. */
  take(event: string, accept: (payload: unknown) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const look = () => {
        const push = this.pushes.find((p) => !p.isTaken && p.event === event && accept(p.payload));
        if (!push) return false;
        push.isTaken = true;
        return true;
      };
      if (look()) return resolve();
      const wake = () => {
        if (!look()) return;
        clearTimeout(timer);
        this.waiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(() => {
        this.waiters.delete(wake);
        const seen = this.pushes.filter((p) => p.event === event).map((p) => JSON.stringify(p.payload));
        reject(new Error(`no matching ${event} in ${WAIT_MS} ms; received: ${seen.join(", ") || "none"}`));
      }, WAIT_MS);
      this.waiters.add(wake);
    });
  }
}

function socketOf(flow: FlowRun, name: string): DocSocket {
  let socket = flow.sockets.get(name);
  if (!socket) {
    socket = new DocSocket(flow.app.baseUrl);
    flow.sockets.set(name, socket);
  }
  return socket;
}

function where(example: DocExample): string {
  const what = example.kind === "http" ? `${example.method} ${example.target}` : `${example.verb} ${example.event}`;
  return `docs/protocol.md:${example.line} (${what})`;
}

function parseDocJson(text: string, example: DocExample): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`${where(example)}: a documented JSON block does not parse:\n${text}`);
  }
}

/** Checks `actual` against the documented value and keeps the new values; throws on a difference. */
function expectDocumented(flow: FlowRun, example: DocExample, expected: unknown, actual: unknown, what: string) {
  const found: Vars = new Map();
  const diff = matchValue(expected, actual, flow.vars, found);
  if (diff)
    throw new Error(`${where(example)}: ${what} differs from the document: ${diff}\ngot ${JSON.stringify(actual)}`);
  for (const [name, value] of found) flow.vars.set(name, value);
}

const hmacHex = (secret: string, text: string) => createHmac("sha256", secret).update(text).digest("hex");

/**
 * Pusher's signing for a documented `/apps/...` request whose query ends in
 * `auth_signature=<authSignature>`: `<timestamp>`, `<bodyMd5>` and `<authSignature>` are computed
 * here, as the Pusher SDKs compute them.
 */
function signPusherTarget(flow: FlowRun, method: string, target: string, body: string | undefined): string {
  flow.vars.set("timestamp", Math.floor(Date.now() / 1000));
  flow.vars.set(
    "bodyMd5",
    createHash("md5")
      .update(body ?? "")
      .digest("hex"),
  );
  const unsigned = new URL(fillText(target, flow.vars, new Set(["authSignature"])), "http://doc.invalid");
  const query = [...unsigned.searchParams]
    .filter(([key]) => key !== "auth_signature")
    .map(([key, value]) => [key.toLowerCase(), value] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
  const secret = flow.app.ctx.channelCredentials.secret;
  flow.vars.set("authSignature", hmacHex(secret, `${method}\n${unsigned.pathname}\n${query}`));
  return fillText(target, flow.vars);
}

function requestBody(example: HttpExample, vars: Vars): string | undefined {
  if (example.body === undefined) return undefined;
  const contentType = example.headers.find(([name]) => name.toLowerCase() === "content-type")?.[1] ?? "";
  if (!contentType.startsWith("application/json")) return fillText(example.body, vars);
  let parsed: unknown;
  try {
    parsed = JSON.parse(example.body);
  } catch {
    // A malformed body on purpose (an invalid_request example).
    return fillText(example.body, vars);
  }
  return JSON.stringify(fillJson(parsed, vars));
}

async function runHttp(flow: FlowRun, example: HttpExample): Promise<void> {
  const body = requestBody(example, flow.vars);
  const target = example.target.includes("<authSignature>")
    ? signPusherTarget(flow, example.method, example.target, body)
    : fillText(example.target, flow.vars);
  const headers = new Headers();
  for (const [name, value] of example.headers) {
    if (name.toLowerCase() !== "host") headers.append(name, fillText(value, flow.vars));
  }
  const response = await fetch(`${flow.app.baseUrl}${target}`, {
    method: example.method,
    headers,
    body,
    redirect: "manual",
  });
  const text = await response.text();
  const found: Vars = new Map();
  const problems: string[] = [];
  if (response.status !== example.expected.status) {
    problems.push(`status ${response.status}, documented ${example.expected.status}`);
  }
  for (const [name, value] of example.expected.headers) {
    const actual = name.toLowerCase() === "set-cookie" ? response.headers.getSetCookie() : [response.headers.get(name)];
    const diffs = actual.map((a) => (a === null ? "missing" : matchValue(value, a, flow.vars, found, name)));
    if (!diffs.includes(null)) problems.push(`header ${name}: ${diffs.join("; ")}`);
  }
  let actualBody: unknown;
  const documentedType = example.expected.headers.find(([name]) => name.toLowerCase() === "content-type")?.[1];
  if (example.expected.body === undefined) {
    if (text !== "") problems.push(`a body was sent, none documented: ${text}`);
  } else if (documentedType?.startsWith("text/") || documentedType === "application/statuslist+jwt") {
    // A text answer (the Prometheus format, a JWT): the documented body is a pattern of the whole text.
    const diff = matchValue(example.expected.body, text.trim(), flow.vars, found, "body");
    if (diff) problems.push(diff);
  } else {
    const contentType = response.headers.get("content-type") ?? "";
    if (!contentType.startsWith("application/json")) problems.push(`content-type ${contentType}, not JSON`);
    try {
      actualBody = JSON.parse(text);
    } catch {
      problems.push(`the body is not JSON: ${text}`);
    }
    if (actualBody !== undefined) {
      const diff = matchValue(parseDocJson(example.expected.body, example), actualBody, flow.vars, found);
      if (diff) problems.push(`body: ${diff}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(`${where(example)} differs from the document:\n${problems.join("\n")}\ngot: ${text}`);
  }
  for (const [name, value] of found) flow.vars.set(name, value);
  flow.answers.push(actualBody);
}

async function runSocket(flow: FlowRun, example: SocketExample): Promise<void> {
  const socket = socketOf(flow, example.socket);
  const payload = example.payload === undefined ? undefined : parseDocJson(example.payload, example);
  if (example.verb === "emit") {
    const args = payload === undefined ? [] : [fillJson(payload, flow.vars)];
    const ack: unknown = await socket.socket.timeout(WAIT_MS).emitWithAck(example.event, ...args);
    expectDocumented(flow, example, parseDocJson(example.expectedAck!, example), ack, "the ack");
    flow.answers.push(ack);
    return;
  }
  const expected = payload;
  let found: Vars = new Map();
  await socket
    .take(example.event, (actual) => {
      found = new Map();
      return matchValue(expected, actual, flow.vars, found) === null;
    })
    .catch((error: Error) => {
      throw new Error(`${where(example)}: ${error.message}; documented ${example.payload}`);
    });
  for (const [name, value] of found) flow.vars.set(name, value);
}

async function runExample(flow: FlowRun, example: DocExample): Promise<void> {
  for (const name of example.before) {
    const fixture = FIXTURES.get(name);
    if (!fixture) throw new Error(`${where(example)}: no fixture "${name}" in test/docs/protocol-doc.test.ts`);
    await fixture(flow);
  }
  if (example.kind === "http") await runHttp(flow, example);
  else await runSocket(flow, example);
}

function groupByFlow(list: DocExample[]): Map<string, DocExample[]> {
  const flows = new Map<string, DocExample[]>();
  for (const example of list) flows.set(example.flow, [...(flows.get(example.flow) ?? []), example]);
  return flows;
}

/** A server as the document assumes it: defaults, plus the test attestor and `env`. */
function startDocApp(env: Record<string, string> = {}): Promise<TestApp> {
  const { d: _private, ...publicJwk } = attestorJwk;
  return startTestApp({ TRUSTED_ATTESTORS: JSON.stringify({ [ATTESTOR_ISS]: publicJwk }), ...env });
}

beforeAll(async () => {
  app = await startDocApp();
});
afterAll(async () => {
  await app?.stop();
});

describe("docs/protocol.md: every example against a running server", () => {
  const checked = new Set<DocExample>();

  it("has examples", () => {
    expect(examples.length).toBeGreaterThan(20);
  });

  for (const [name, list] of groupByFlow(examples)) {
    it(`flow "${name}" (${list.length} examples)`, async () => {
      const env = list[0]!.env;
      const ownApp = Object.keys(env).length > 0 ? await startDocApp(env) : undefined;
      const server = ownApp ?? app;
      const flow: FlowRun = {
        app: server,
        vars: new Map<string, unknown>([
          ["PUBLIC_URL", server.baseUrl],
          ["DOMAIN", new URL(server.baseUrl).host],
          ["APP_ID", server.ctx.channelCredentials.appId],
          ["APP_KEY", server.ctx.channelCredentials.key],
        ]),
        sockets: new Map(),
        answers: [],
      };
      try {
        for (const example of list) {
          await runExample(flow, example);
          checked.add(example);
        }
      } finally {
        for (const socket of flow.sockets.values()) socket.socket.disconnect();
        await ownApp?.stop();
      }
    });
  }

  it("checked every example", () => {
    const unchecked = examples.filter((example) => !checked.has(example)).map(where);
    expect(unchecked).toEqual([]);
  });
});

describe("docs/protocol.md names everything the server has", () => {
  it("lists every error code of lib/protocol/errors.ts with its status, and no other", () => {
    const section = doc.slice(doc.search(/^## \d+\. Error codes$/m));
    expect(section.length).toBeLessThan(doc.length);
    const rows = [...section.matchAll(/^\|\s*`([a-z0-9_]+)`\s*\|\s*(\d{3})\s*\|/gm)].map(
      (m) => [m[1]!, Number(m[2])] as const,
    );
    expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS);
    expect(rows.length).toBe(Object.keys(ERROR_STATUS).length);
  });

  it("names every route of the API router and the data endpoint, each with a tested example", () => {
    const routes = createApiRouter(app.ctx)
      .routes.filter((route) => route.method !== "ALL" && !route.path.includes("*"))
      .map((route) => ({ method: route.method, path: route.path.replace(/\/$/, "") }));
    routes.push({ method: "POST", path: `${DATA_PATH_PREFIX}:resource` });
    const named = (route: { method: string; path: string }) =>
      `${route.method} ${route.path.replace(/:([A-Za-z]+)/g, "{$1}")}`;
    const isExampleOf = (route: { method: string; path: string }, example: DocExample) => {
      if (example.kind !== "http" || example.method !== route.method) return false;
      const pattern = new RegExp(`^${route.path.replace(/:[A-Za-z]+/g, "[^/]+")}$`);
      return pattern.test(example.target.split("?")[0]!.replace(/\/$/, ""));
    };
    const unique = [...new Map(routes.map((route) => [named(route), route])).values()];
    expect(unique.filter((route) => !doc.includes(`\`${named(route)}\``)).map(named)).toEqual([]);
    expect(unique.filter((route) => !examples.some((e) => isExampleOf(route, e))).map(named)).toEqual([]);
  });

  it("names every socket event, each with a tested example", () => {
    const events = ALL_SOCKET_EVENTS;
    expect(events.filter((event) => !doc.includes(`\`${event}\``))).toEqual([]);
    const tested = new Set(examples.flatMap((e) => (e.kind === "socket" ? [e.event] : [])));
    expect(events.filter((event) => !tested.has(event))).toEqual([]);
  });
});

describe("the example checker", () => {
  const vars: Vars = new Map<string, unknown>([["sessionId", "abc"]]);
  const check = (expected: unknown, actual: unknown) => matchValue(expected, actual, vars, new Map());

  it("refuses a wrong value, an undocumented key, a missing key and a wrong length", () => {
    expect(check({ state: "pending" }, { state: "scanned" })).toMatch(/state/);
    expect(check({ ok: true }, { ok: true, extra: 1 })).toMatch(/undocumented keys extra/);
    expect(check({ ok: true, state: "..." }, { ok: true })).toMatch(/missing/);
    expect(check(["...", "..."], ["a"])).toMatch(/1 items/);
    expect(check({ sessionId: "<sessionId>" }, { sessionId: "abd" })).toMatch(/is not <sessionId>/);
    expect(check({ uri: "<PUBLIC_URL>/x" }, { uri: "http://a/y" })).toMatch(/does not read/);
  });

  it("accepts placeholders, `...` and extra keys where the document allows them", () => {
    const found: Vars = new Map();
    expect(
      matchValue({ qr: "http://h/<id>", id: "<id>", "...": "..." }, { qr: "http://h/7", id: "7", x: 1 }, vars, found),
    ).toBeNull();
    expect(found.get("id")).toBe("7");
    expect(check({ auth: "key:...", list: ["..."] }, { auth: "key:ff", list: [1, 2] })).toBeNull();
    expect(check({ "<sessionId>": 1 }, { abc: 1 })).toBeNull();
  });

  it("refuses a document whose request has no answer block, or whose example has no flow", () => {
    expect(() => parseDocExamples("<!-- flow: a -->\n```http\nGET /api/health\n```\n")).toThrow(/followed by/);
    expect(() => parseDocExamples("```http\nGET /x\n```\n```http\nHTTP/1.1 200 OK\n```\n")).toThrow(/before any/);
    expect(() => parseDocExamples("<!-- flow: a -->\n```http\nHTTP/1.1 200 OK\n```\n")).toThrow(/without a request/);
    expect(() => parseDocExamples("<!-- flow: a -->\n<!-- flow: b -->\n<!-- flow: a -->\n")).toThrow(
      /a second flow "a"/,
    );
  });
});
