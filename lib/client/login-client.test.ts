import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Server } from "socket.io";
import type { Socket as ServerSocket } from "socket.io";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { ClientToServerEvents, LoginState, LoginStateEvent, ServerToClientEvents } from "../protocol/login";
import type { PushClientToServerEvents } from "../protocol/push";
import { LoginClientError, createLoginClient, pollSession } from "./login-client";
import type { LoginClient } from "./login-client";

const BROWSER_SECRET = "s".repeat(43);
const CODE = "c".repeat(43);

interface FakeSession {
  sessionId: string;
  state: LoginState;
  code?: string;
  holders: Set<ServerSocket>;
}

/**
 * Just enough of the server's Socket.IO contract: start, resume (which also
 * follows the session on the new socket), cancel. `requiredClaims: ["silent"]`
 * gets no ack, `["refused"]` a failed one.
 */
function startFakeServer() {
  const httpServer = createServer((req, res) => {
    if (req.method === "POST" && req.url === "/api/auth/redeem") {
      let text = "";
      req.on("data", (chunk) => (text += String(chunk)));
      req.on("end", () => {
        redeemBodies.push(JSON.parse(text));
        res.writeHead(200, { "content-type": "application/json" });
        const user = { id: "u1", address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", claims: {} };
        res.end(JSON.stringify({ accessToken: "token", tokenType: "Bearer", expiresIn: 900, user }));
      });
      return;
    }
    const session = sessions.get(req.url?.split("/").pop() ?? "");
    if (session === undefined || req.headers["x-browser-secret"] !== BROWSER_SECRET) {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { code: "session_not_found", message: "no such session" } }));
      return;
    }
    res.writeHead(200, { "content-type": "application/json" });
    const status = { sessionId: session.sessionId, state: session.state, expiresAt: "2030-01-01T00:00:00Z" };
    res.end(JSON.stringify(session.code ? { ...status, code: session.code } : status));
  });
  const io = new Server<ClientToServerEvents & Pick<PushClientToServerEvents, "login:push">, ServerToClientEvents>(
    httpServer,
    { transports: ["websocket"] },
  );
  const sessions = new Map<string, FakeSession>();
  const sockets = new Set<ServerSocket>();
  const redeemBodies: unknown[] = [];
  /** How many resumes to answer `unavailable` (the server's Redis away) before answering. */
  const control = { unavailableResumes: 0 };
  let nextId = 0;

  io.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("disconnect", () => sockets.delete(socket));
    socket.on("login:start", (payload, ack) => {
      if (payload?.requiredClaims?.includes("silent")) return;
      if (payload?.requiredClaims?.includes("refused")) {
        ack({ ok: false, error: { code: "invalid_request", message: "refused" } });
        return;
      }
      const sessionId = `session${String(nextId++).padStart(15, "0")}`;
      sessions.set(sessionId, { sessionId, state: "pending", holders: new Set([socket]) });
      const qr = `http://localhost/api/login/requests/${sessionId}`;
      const expiresAt = "2030-01-01T00:00:00Z";
      ack({
        ok: true,
        session: {
          sessionId,
          requestUri: qr,
          qr,
          state: "pending",
          expiresAt,
          matchCode: "42",
          browserSecret: BROWSER_SECRET,
        },
      });
    });
    socket.on("login:push", ({ address }, ack) => {
      if (address === "0x0000000000000000000000000000000000000000") {
        ack({ ok: false, error: { code: "rate_limited", message: "too many pushes" } });
        return;
      }
      const sessionId = `push${String(nextId++).padStart(18, "0")}`;
      sessions.set(sessionId, { sessionId, state: "pending", holders: new Set([socket]) });
      const session = { sessionId, state: "pending" as const, expiresAt: "2030-01-01T00:00:00Z", matchCode: "17" };
      ack({ ok: true, session: { ...session, browserSecret: BROWSER_SECRET } });
    });
    socket.on("login:resume", ({ sessionId, browserSecret }, ack) => {
      if (control.unavailableResumes > 0) {
        control.unavailableResumes--;
        ack({ ok: false, error: { code: "unavailable", message: "store away" } });
        return;
      }
      const session = sessions.get(sessionId);
      if (session === undefined || browserSecret !== BROWSER_SECRET) {
        ack({ ok: false, error: { code: "session_not_found", message: "no such session" } });
        return;
      }
      session.holders.add(socket);
      const status = { sessionId, state: session.state, expiresAt: "2030-01-01T00:00:00Z" };
      ack({ ok: true, session: session.code ? { ...status, code: session.code } : status });
    });
    socket.on("login:cancel", ({ sessionId }, ack) => {
      const session = sessions.get(sessionId);
      if (session === undefined) {
        ack({ ok: false, error: { code: "session_not_found", message: "no such session" } });
        return;
      }
      session.state = "cancelled";
      ack({ ok: true });
    });
  });

  /** Moves a session on; pushes `login:state` only to connected holders unless `silently`. */
  const transition = (sessionId: string, state: LoginState, options: { silently?: boolean } = {}) => {
    const session = sessions.get(sessionId)!;
    session.state = state;
    if (state === "approved") session.code = CODE;
    if (options.silently) return;
    const event: LoginStateEvent = { sessionId, state };
    if (session.code && state === "approved") event.code = session.code;
    for (const holder of session.holders) if (holder.connected) holder.emit("login:state", event);
  };

  /** Drops the transport under every client, as a node restart or a network change would. */
  const dropConnections = () => {
    for (const socket of sockets) socket.conn.close();
  };

  const forget = (sessionId: string) => sessions.delete(sessionId);

  /** A server-side disconnect of every socket (`io server disconnect` at the client). */
  const disconnectAll = () => {
    for (const socket of sockets) socket.disconnect(true);
  };

  /** Whether a live socket follows the session, i.e. started or resumed it on this connection. */
  const isFollowed = (sessionId: string) => [...(sessions.get(sessionId)?.holders ?? [])].some((s) => s.connected);

  return new Promise<{
    io: Server;
    url: string;
    transition: typeof transition;
    dropConnections: () => void;
    isFollowed: typeof isFollowed;
    forget: typeof forget;
    disconnectAll: typeof disconnectAll;
    control: typeof control;
    redeemBodies: unknown[];
  }>((resolve) => {
    httpServer.listen(0, "127.0.0.1", () => {
      const url = `http://127.0.0.1:${(httpServer.address() as AddressInfo).port}`;
      resolve({ io, url, transition, dropConnections, isFollowed, forget, disconnectAll, control, redeemBodies });
    });
  });
}

let server: Awaited<ReturnType<typeof startFakeServer>>;
const clients: LoginClient[] = [];

function connect(options: { ackTimeoutMs?: number } = {}): LoginClient {
  const client = createLoginClient({
    endpoint: server.url,
    ackTimeoutMs: options.ackTimeoutMs ?? 2000,
    io: { reconnectionDelay: 20, reconnectionDelayMax: 50 },
  });
  clients.push(client);
  return client;
}

async function expectClientError(promise: Promise<unknown>, code: string): Promise<LoginClientError> {
  const error = await promise.then(
    () => expect.unreachable("expected a LoginClientError"),
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(LoginClientError);
  expect(error).toMatchObject({ code });
  return error as LoginClientError;
}

beforeAll(async () => {
  server = await startFakeServer();
});
afterEach(() => {
  for (const client of clients.splice(0)) client.close();
});
afterAll(() => new Promise<void>((resolve) => server.io.close(() => resolve())));

describe("createLoginClient", () => {
  it("starts a session and follows its state pushes", async () => {
    const client = connect();
    const session = await client.start();
    expect(session).toMatchObject({ state: "pending", matchCode: "42", browserSecret: BROWSER_SECRET });
    expect(session.qr).toBe(session.requestUri);

    const seen: LoginState[] = [];
    client.onState((event) => seen.push(event.state));
    const scanned = client.waitForState(["scanned"], { timeoutMs: 2000 });
    server.transition(session.sessionId, "scanned");
    await expect(scanned).resolves.toEqual({ sessionId: session.sessionId, state: "scanned" });

    const approved = client.waitForState(["approved"], { timeoutMs: 2000 });
    server.transition(session.sessionId, "approved");
    await expect(approved).resolves.toMatchObject({ state: "approved", code: CODE });
    expect(seen).toEqual(["scanned", "approved"]);
    expect(client.getState()).toMatchObject({ state: "approved", code: CODE });
  });

  it("resolves at once when the state was already reached", async () => {
    const client = connect();
    await client.start();
    await expect(client.waitForState(["pending", "scanned"], { timeoutMs: 100 })).resolves.toMatchObject({
      state: "pending",
    });
  });

  it("resumes by itself after a reconnect and catches up on what it missed", async () => {
    const client = connect();
    const session = await client.start();
    const approved = client.waitForState(["approved"], { timeoutMs: 5000 });
    const disconnected = new Promise((resolve) => client.socket.once("disconnect", resolve));
    server.dropConnections();
    await disconnected;
    // Reached while the browser was offline: only the resume's answer can tell.
    server.transition(session.sessionId, "approved", { silently: true });
    await expect(approved).resolves.toMatchObject({ sessionId: session.sessionId, state: "approved", code: CODE });
  });

  it("keeps receiving pushes on the new connection after a reconnect", async () => {
    const client = connect();
    const session = await client.start();
    const reconnected = new Promise((resolve) => client.socket.io.once("reconnect", resolve));
    server.dropConnections();
    await reconnected;
    await vi.waitFor(() => expect(server.isFollowed(session.sessionId)).toBe(true));
    const scanned = client.waitForState(["scanned"], { timeoutMs: 2000 });
    server.transition(session.sessionId, "scanned");
    await expect(scanned).resolves.toMatchObject({ state: "scanned" });
  });

  it("tries a resume answered unavailable again, on the same connection, until it is answered", async () => {
    const client = connect();
    const session = await client.start();
    const approved = client.waitForState(["approved"], { timeoutMs: 10_000 });
    server.control.unavailableResumes = 2;
    server.dropConnections();
    server.transition(session.sessionId, "approved", { silently: true });
    await expect(approved).resolves.toMatchObject({ state: "approved", code: CODE });
    expect(server.control.unavailableResumes).toBe(0);
  });

  it("reconnects by itself after a server-side disconnect while a login is open", async () => {
    const client = connect();
    const session = await client.start();
    const approved = client.waitForState(["approved"], { timeoutMs: 5000 });
    const disconnected = new Promise((resolve) => client.socket.once("disconnect", resolve));
    server.disconnectAll();
    expect(await disconnected).toBe("io server disconnect");
    server.transition(session.sessionId, "approved", { silently: true });
    await expect(approved).resolves.toMatchObject({ state: "approved", code: CODE });
    expect(client.socket.connected).toBe(true);
  });

  it("ends a login the new node does not know as expired (session_not_found), and fails the waits", async () => {
    const client = connect();
    const session = await client.start();
    const errors: string[] = [];
    const states: unknown[] = [];
    client.onError((error) => errors.push(error.code));
    client.onState((event) => states.push(event));
    const approved = client.waitForState(["approved"], { timeoutMs: 5000 });
    server.forget(session.sessionId);
    server.dropConnections();
    const error = await expectClientError(approved, "session_not_found");
    expect(error.event).toEqual({ sessionId: session.sessionId, state: "expired", reason: "session_not_found" });
    expect(states).toEqual([error.event]);
    expect(client.getState()).toEqual(error.event);
    // One end, as a state: the widget replaces the code once, not once per channel.
    expect(errors).toEqual([]);
  });

  it("cancels, and rejects a wait for a state the session can no longer reach", async () => {
    const client = connect();
    await client.start();
    const approved = client.waitForState(["approved"], { timeoutMs: 2000 });
    await client.cancel();
    const error = await expectClientError(approved, "session_closed");
    expect(error.event).toMatchObject({ state: "cancelled" });
    expect(client.getState()).toMatchObject({ state: "cancelled" });
  });

  it("turns failed acks into LoginClientError with the protocol code", async () => {
    const client = connect();
    await expectClientError(client.start({ requiredClaims: ["refused"] }), "invalid_request");
  });

  it("times out when an ack never comes", async () => {
    const client = connect({ ackTimeoutMs: 100 });
    await expectClientError(client.start({ requiredClaims: ["silent"] }), "timeout");
  });

  it("times out, or stops on abort, while waiting for a state", async () => {
    const client = connect();
    await client.start();
    await expectClientError(client.waitForState(["approved"], { timeoutMs: 50 }), "timeout");
    const controller = new AbortController();
    const waiting = client.waitForState(["approved"], { timeoutMs: 2000, signal: controller.signal });
    controller.abort();
    await expectClientError(waiting, "aborted");
  });

  it("refuses calls that need a session before start()", async () => {
    const client = connect();
    await expectClientError(client.resume(), "no_session");
    await expectClientError(client.waitForState(["approved"], { timeoutMs: 50 }), "no_session");
    await expectClientError(client.redeem(), "no_session");
  });

  it("rejects pending waits on close()", async () => {
    const client = connect();
    await client.start();
    const waiting = client.waitForState(["approved"], { timeoutMs: 2000 });
    client.close();
    await expectClientError(waiting, "closed");
  });
});

describe("redeem", () => {
  it("posts the session, browser secret and code of the approved event", async () => {
    const client = connect();
    const session = await client.start();
    await expectClientError(client.redeem(), "not_approved");
    server.transition(session.sessionId, "approved");
    await client.waitForState(["approved"], { timeoutMs: 2000 });
    await expect(client.redeem()).resolves.toMatchObject({ accessToken: "token", user: { id: "u1" } });
    expect(server.redeemBodies.at(-1)).toEqual({
      sessionId: session.sessionId,
      browserSecret: BROWSER_SECRET,
      code: CODE,
    });
    expect(client.getState()).toMatchObject({ state: "redeemed" });
  });
});

describe("pollSession", () => {
  it("reads the state with the browser secret and maps errors", async () => {
    const client = connect();
    const session = await client.start();
    server.transition(session.sessionId, "scanned");
    await expect(pollSession(server.url, session.sessionId, BROWSER_SECRET)).resolves.toMatchObject({
      sessionId: session.sessionId,
      state: "scanned",
    });
    await expectClientError(pollSession(server.url, session.sessionId, "x".repeat(43)), "session_not_found");
  });
});

describe("push and poll", () => {
  it("push starts a session the client follows like a QR one: events, cancel, its refusals as errors", async () => {
    const client = connect();
    const session = await client.push("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    expect(session).toEqual({
      sessionId: expect.stringMatching(/^push/),
      state: "pending",
      expiresAt: "2030-01-01T00:00:00Z",
      matchCode: "17",
      browserSecret: BROWSER_SECRET,
    });
    expect(client.getSession()).toEqual(session);
    const fetched = client.waitForState(["fetched"], { timeoutMs: 10_000 });
    server.transition(session.sessionId, "fetched");
    await expect(fetched).resolves.toMatchObject({ sessionId: session.sessionId, state: "fetched" });
    await client.cancel();
    expect(client.getState()).toMatchObject({ state: "cancelled" });
    await expectClientError(client.push("0x0000000000000000000000000000000000000000"), "rate_limited");
  });

  it("poll reads the session over HTTP and applies it: a polled approval can be redeemed", async () => {
    const client = connect();
    const session = await client.push("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    const seen: LoginStateEvent[] = [];
    client.onState((event) => seen.push(event));
    server.transition(session.sessionId, "approved", { silently: true });
    await expect(client.poll()).resolves.toMatchObject({ sessionId: session.sessionId, state: "approved" });
    expect(seen).toEqual([{ sessionId: session.sessionId, state: "approved", code: CODE }]);
    await expect(client.redeem()).resolves.toMatchObject({ accessToken: "token" });
    expect(server.redeemBodies.at(-1)).toEqual({
      sessionId: session.sessionId,
      browserSecret: BROWSER_SECRET,
      code: CODE,
    });
    server.forget(session.sessionId);
    await expectClientError(client.poll(), "session_not_found");
  });
});
