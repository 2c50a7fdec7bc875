/**
 * The Socket.IO side of docs/protocol.md section 1: who hears `login:state`, resume,
 * cancel, and payloads that are wrong in every way (never a crash, always an ack).
 */
import type { Socket } from "socket.io-client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createWalletKey } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import type { BrowserSocket } from "./helpers";
import {
  connectSocket,
  emitAck,
  expectError,
  postAuth,
  request,
  resumeLogin,
  roundTrip,
  scan,
  signAnswer,
  startLogin,
  StateRecorder,
} from "./helpers";

let app: TestApp;
const opened: BrowserSocket[] = [];

async function connect() {
  const connection = await connectSocket(app.baseUrl);
  opened.push(connection.socket);
  return { ...connection, states: new StateRecorder(connection.socket) };
}

beforeAll(async () => {
  app = await startTestApp();
});
afterEach(() => {
  for (const socket of opened.splice(0)) socket.disconnect();
});
afterAll(async () => {
  await app?.stop();
});

const invalidRequest = { ok: false, error: { code: "invalid_request", message: expect.any(String) } };

describe("login:state reaches only holders of the browser secret", () => {
  it("skips a socket that knows only the sessionId and reaches one that resumed with the secret", async () => {
    const browser = await connect();
    const session = await startLogin(browser.socket);
    const eavesdropper = await connect();
    const resumer = await connect();

    // Knowing the id is not enough, whatever secret is tried.
    for (const browserSecret of ["A".repeat(43), session.browserSecret.replace(/^./, (c) => (c === "A" ? "B" : "A"))]) {
      expect(
        await emitAck(eavesdropper.socket as unknown as Socket, "login:resume", {
          sessionId: session.sessionId,
          browserSecret,
        }),
      ).toEqual({
        ok: false,
        error: { code: "session_not_found", message: expect.any(String) },
      });
    }
    // A secret of another session does not open this one either.
    const other = await startLogin(eavesdropper.socket);
    expect(await resumeLogin(eavesdropper.socket, session.sessionId, other.browserSecret)).toMatchObject({
      ok: false,
      error: { code: "session_not_found" },
    });

    const resumed = await resumeLogin(resumer.socket, session.sessionId, session.browserSecret);
    expect(resumed).toEqual({
      ok: true,
      session: { sessionId: session.sessionId, state: "pending", expiresAt: session.expiresAt },
    });

    const req = await scan(session);
    await browser.states.waitForState(session.sessionId, "scanned");
    await resumer.states.waitForState(session.sessionId, "scanned");
    expect((await postAuth(app.baseUrl, await signAnswer(createWalletKey(), req, session.matchCode))).status).toBe(200);
    const approved = await browser.states.waitForState(session.sessionId, "approved");
    const approvedToResumer = await resumer.states.waitForState(session.sessionId, "approved");
    expect(approvedToResumer.code).toBe(approved.code);

    // Anything pushed to the eavesdropper would have arrived before this answer.
    await roundTrip(eavesdropper.socket);
    expect(eavesdropper.states.states(session.sessionId)).toEqual([]);

    // A socket that resumes after approval learns the code from the ack.
    const late = await connect();
    expect(await resumeLogin(late.socket, session.sessionId, session.browserSecret)).toEqual({
      ok: true,
      session: { sessionId: session.sessionId, state: "approved", expiresAt: session.expiresAt, code: approved.code },
    });
  });

  it("keeps sessions of different browsers apart", async () => {
    const a = await connect();
    const b = await connect();
    const sessionA = await startLogin(a.socket);
    const sessionB = await startLogin(b.socket);
    await scan(sessionA);
    await a.states.waitForState(sessionA.sessionId, "scanned");
    await roundTrip(b.socket);
    expect(b.states.events).toEqual([]);
    await scan(sessionB);
    await b.states.waitForState(sessionB.sessionId, "scanned");
    expect(a.states.states()).toEqual(["scanned"]);
  });
});

describe("login:cancel", () => {
  it("ends the session as cancelled for the browser; the wallet then gets session_closed", async () => {
    const browser = await connect();
    const session = await startLogin(browser.socket);
    const req = await scan(session);
    await browser.states.waitForState(session.sessionId, "scanned");

    // A wrong secret cancels nothing.
    expect(
      await emitAck(browser.socket as unknown as Socket, "login:cancel", {
        sessionId: session.sessionId,
        browserSecret: "A".repeat(43),
      }),
    ).toMatchObject({ ok: false, error: { code: "session_not_found" } });

    expect(
      await emitAck(browser.socket as unknown as Socket, "login:cancel", {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
      }),
    ).toEqual({ ok: true });
    const cancelled = await browser.states.waitForState(session.sessionId, "cancelled");
    expect(cancelled).not.toHaveProperty("code");

    expectError(
      await postAuth(app.baseUrl, await signAnswer(createWalletKey(), req, session.matchCode)),
      401,
      "session_closed",
    );
    expectError(await request(session.qr), 410, "session_closed");
    expect(
      await emitAck(browser.socket as unknown as Socket, "login:cancel", {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
      }),
    ).toMatchObject({ ok: false, error: { code: "session_closed" } });
    expect(browser.states.states(session.sessionId)).toEqual(["scanned", "cancelled"]);
  });
});

describe("login:start payloads", () => {
  it("starts with no payload, null, {} and an empty claims list", async () => {
    const { socket } = await connect();
    const raw = socket as unknown as Socket;
    for (const args of [[], [null], [{}], [{ requiredClaims: [] }]]) {
      expect(await emitAck(raw, "login:start", ...args)).toMatchObject({ ok: true, session: { state: "pending" } });
    }
  });
});

describe("bad socket payloads", () => {
  it.each<[string, string, unknown[]]>([
    ["login:start with requiredClaims a string", "login:start", [{ requiredClaims: "x" }]],
    ["login:start with an unknown key", "login:start", [{ foo: 1 }]],
    ["login:start with a string", "login:start", ["hello"]],
    ["login:start with a number", "login:start", [42]],
    [
      "login:start with too many claims",
      "login:start",
      [{ requiredClaims: Array.from({ length: 17 }, (_, i) => `c${i}`) }],
    ],
    ["login:start with a bad claim name", "login:start", [{ requiredClaims: ["a b"] }]],
    ["login:resume with {}", "login:resume", [{}]],
    ["login:resume with null", "login:resume", [null]],
    ["login:resume without payload", "login:resume", []],
    ["login:resume with numbers", "login:resume", [{ sessionId: 1, browserSecret: 2 }]],
    [
      "login:resume with huge strings",
      "login:resume",
      [{ sessionId: "x".repeat(7000), browserSecret: "y".repeat(7000) }],
    ],
    [
      "login:resume with an extra key",
      "login:resume",
      [{ sessionId: "A".repeat(22), browserSecret: "A".repeat(43), x: 1 }],
    ],
    ["login:cancel with {}", "login:cancel", [{}]],
    ["login:cancel with an array", "login:cancel", [["a", "b"]]],
  ])("acks invalid_request for %s", async (_label, event, args) => {
    const { socket } = await connect();
    expect(await emitAck(socket as unknown as Socket, event, ...args)).toEqual(invalidRequest);
    // The same socket still works.
    expect((await startLogin(socket)).state).toBe("pending");
  });

  it("survives events without an ack callback, unknown events and extra arguments", async () => {
    const { socket } = await connect();
    const raw = socket as unknown as Socket;
    raw.emit("login:start");
    raw.emit("login:start", { requiredClaims: "x" });
    raw.emit("login:resume", {});
    raw.emit("login:resume", { sessionId: "A".repeat(22), browserSecret: "A".repeat(43) });
    raw.emit("login:cancel", {});
    raw.emit("no:such-event", { a: 1 }, () => undefined);
    raw.emit("login:start", {}, "not a function");
    // Extra arguments before the ack are ignored or refused, never a crash.
    const extra = await emitAck(raw, "login:resume", {}, {});
    expect(extra).toMatchObject({ ok: false });
    expect(socket.connected).toBe(true);
    expect((await startLogin(socket)).state).toBe("pending");
    // Another socket is served too.
    const second = await connect();
    expect((await startLogin(second.socket)).state).toBe("pending");
  });

  it("drops a socket whose message exceeds the buffer limit and keeps serving others", async () => {
    const { socket } = await connect();
    const closed = new Promise<string>((resolve) => socket.once("disconnect", (reason) => resolve(reason)));
    socket.emit("login:resume", { sessionId: "x".repeat(40_000), browserSecret: "y" } as never, () => undefined);
    // Bounded by the test's timeout: a socket that stays connected fails it.
    expect(await closed).toEqual(expect.any(String));
    const next = await connect();
    expect((await startLogin(next.socket)).state).toBe("pending");
  });
});
