/**
 * Small clients for the protocol suites: a browser socket that records `login:state`,
 * the wallet core for the phone, and fetch for everything else. Every wait is bounded
 * and event-driven; nothing here sleeps.
 */
import { io } from "socket.io-client";
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";
import { expect } from "vitest";
import type {
  Ack,
  AuthBody,
  ClientToServerEvents,
  LoginRequest,
  LoginStateEvent,
  RedeemResponse,
  ServerToClientEvents,
  SessionStatus,
  StartedSession,
} from "../../lib/protocol/login";
import { formatSiweMessage } from "../../lib/protocol/siwe";
import type { SiweMessage } from "../../lib/protocol/siwe";
import { createWalletKey, fetchLoginRequest } from "../../lib/wallet";
import type { WalletKey } from "../../lib/wallet";

export type BrowserSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

export const WAIT_MS = 15_000;

/** Opens a websocket-only Socket.IO connection and resolves on `connection:established`. */
export function connectSocket(
  baseUrl: string,
  options: Partial<ManagerOptions & SocketOptions> = {},
): Promise<{ socket: BrowserSocket; socketId: string }> {
  const socket: BrowserSocket = io(baseUrl, {
    path: "/socket.io",
    transports: ["websocket"],
    reconnection: false,
    autoConnect: false,
    forceNew: true,
    ...options,
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.disconnect();
      reject(new Error("no connection:established in time"));
    }, WAIT_MS);
    socket.once("connection:established", ({ socket_id }) => {
      clearTimeout(timer);
      resolve({ socket, socketId: socket_id });
    });
    socket.once("connect_error", (error) => {
      clearTimeout(timer);
      socket.disconnect();
      reject(error);
    });
    socket.connect();
  });
}

/** Every `login:state` a socket receives, in order, with a bounded wait for the next match. */
export class StateRecorder {
  readonly events: LoginStateEvent[] = [];
  private waiters: Array<{ match: (e: LoginStateEvent) => boolean; resolve: (e: LoginStateEvent) => void }> = [];

  constructor(socket: BrowserSocket) {
    socket.on("login:state", (event) => {
      this.events.push(event);
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.match(event)) return true;
        waiter.resolve(event);
        return false;
      });
    });
  }

  states(sessionId?: string): string[] {
    return this.events.filter((e) => sessionId === undefined || e.sessionId === sessionId).map((e) => e.state);
  }

  /** The first event (already received or still to come) for which `match` holds. */
  waitFor(match: (e: LoginStateEvent) => boolean, timeoutMs = WAIT_MS): Promise<LoginStateEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (event: LoginStateEvent) => {
          clearTimeout(timer);
          resolve(event);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching login:state in ${timeoutMs} ms; got ${JSON.stringify(this.events)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  waitForState(sessionId: string, state: string, timeoutMs = WAIT_MS): Promise<LoginStateEvent> {
    return this.waitFor((e) => e.sessionId === sessionId && e.state === state, timeoutMs);
  }
}

/** Emits an event and waits for its ack; any event name and payload, for the bad-input tests. */
export async function emitAck(
  socket: Socket,
  event: string,
  ...args: unknown[]
): Promise<Ack<Record<string, unknown>>> {
  return (await socket.timeout(WAIT_MS).emitWithAck(event, ...args)) as Ack<Record<string, unknown>>;
}

export async function startLogin(socket: BrowserSocket, payload: { requiredClaims?: string[] } = {}) {
  const ack = (await emitAck(socket as unknown as Socket, "login:start", payload)) as Ack<{ session: StartedSession }>;
  if (!ack.ok) throw new Error(`login:start failed: ${JSON.stringify(ack)}`);
  return ack.session;
}

export async function resumeLogin(socket: BrowserSocket, sessionId: string, browserSecret: string) {
  return (await emitAck(socket as unknown as Socket, "login:resume", { sessionId, browserSecret })) as Ack<{
    session: SessionStatus;
  }>;
}

/** A browser: a connected socket, its recorder and a started login. */
export async function openBrowser(baseUrl: string) {
  const { socket, socketId } = await connectSocket(baseUrl);
  const states = new StateRecorder(socket);
  const session = await startLogin(socket);
  return { socket, socketId, states, session };
}

export interface HttpResult<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function request<T = unknown>(url: string, init: RequestInit = {}): Promise<HttpResult<T>> {
  const response = await fetch(url, init);
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return { status: response.status, headers: response.headers, body: body as T, text };
}

export function postJson<T = unknown>(url: string, body: unknown, headers: Record<string, string> = {}) {
  return request<T>(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A docs/protocol.md error: exact status, JSON `{error: {code, message}}`. */
export function expectError(res: HttpResult, status: number, code: string) {
  expect({ status: res.status, code: (res.body as { error?: { code?: string } } | undefined)?.error?.code }).toEqual({
    status,
    code,
  });
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  expect(res.body).toEqual({ error: { code, message: expect.any(String) } });
}

/** The wallet scans the QR: GET the request behind it (pending -> scanned). */
export function scan(session: StartedSession): Promise<LoginRequest> {
  return fetchLoginRequest(session.qr);
}

/**
 * The wallet's answer, built by hand so a test can change one field of the signed
 * EIP-4361 message (`overrides`) and still sign it with the wallet key.
 */
export async function signAnswer(
  key: WalletKey,
  req: LoginRequest,
  matchCode: string,
  overrides: Partial<SiweMessage> = {},
): Promise<AuthBody> {
  const message = formatSiweMessage({
    domain: req.domain,
    address: key.address,
    statement: req.statement,
    uri: req.uri,
    version: req.version,
    chainId: req.chainId,
    nonce: req.nonce,
    issuedAt: new Date().toISOString(),
    expirationTime: req.expirationTime,
    requestId: req.requestId,
    ...overrides,
  });
  return { sessionId: req.sessionId, message, signature: await key.signMessage(message), matchCode };
}

export function postAuth(baseUrl: string, body: unknown) {
  return postJson(`${baseUrl}/api/auth`, body);
}

/** A match code among the choices that is not the right one. */
export function wrongMatchCode(req: LoginRequest, matchCode: string): string {
  const wrong = req.matchChoices.find((c) => c !== matchCode);
  if (wrong === undefined) throw new Error("no wrong match choice");
  return wrong;
}

/** The `name=value` part of the refresh cookie in a response, or undefined. */
export function refreshCookieOf(res: HttpResult): { pair: string; value: string; header: string } | undefined {
  const header = res.headers.getSetCookie().find((c) => c.startsWith("wl_refresh="));
  if (header === undefined) return undefined;
  const pair = header.split(";")[0] ?? "";
  return { pair, value: pair.slice("wl_refresh=".length), header };
}

/** Waits for `session`'s `approved` on `states`, then redeems its code (POST /api/auth/redeem). */
export async function redeemApproved(
  baseUrl: string,
  states: StateRecorder,
  session: { sessionId: string; browserSecret: string },
) {
  const approved = await states.waitForState(session.sessionId, "approved");
  return postJson<RedeemResponse>(`${baseUrl}/api/auth/redeem`, {
    sessionId: session.sessionId,
    browserSecret: session.browserSecret,
    code: approved.code,
  });
}

/** The whole login through the wire: start, scan, approve, redeem. */
export async function logIn(baseUrl: string, key: WalletKey = createWalletKey()) {
  const browser = await openBrowser(baseUrl);
  try {
    const { session, states } = browser;
    const req = await scan(session);
    const answer = await postAuth(baseUrl, await signAnswer(key, req, session.matchCode));
    expect(answer.status).toBe(200);
    const redeemed = await redeemApproved(baseUrl, states, session);
    expect(redeemed.status).toBe(200);
    const cookie = refreshCookieOf(redeemed);
    if (!cookie) throw new Error("no refresh cookie");
    return { key, session, redeemed: redeemed.body, cookie };
  } finally {
    browser.socket.disconnect();
  }
}

/** Resolves once the server has answered a round trip on this socket (so earlier pushes have arrived). */
export async function roundTrip(socket: BrowserSocket): Promise<void> {
  await emitAck(socket as unknown as Socket, "login:resume", {});
}
