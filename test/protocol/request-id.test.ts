/**
 * X-Request-Id against running servers: every answer carries one; a trusted proxy's is kept
 * (a bad one replaced), anyone else's ignored; log lines about a request carry its id; a socket
 * event's id is its handshake's id and its number, in the log line and the internal_error ack.
 */
import { Writable } from "node:stream";
import pino from "pino";
import type { Socket } from "socket.io-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { connectSocket, emitAck, logIn, postJson, request } from "./helpers";

type LogLine = Record<string, unknown> & { msg: string };

function captureLog() {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as LogLine);
      done();
    },
  });
  return { log: pino({ level: "info" }, stream), lines };
}

const ID_FORMAT = /^[A-Za-z0-9_-]+-[0-9a-z]+$/;

describe("X-Request-Id without a trusted proxy", () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("answers every kind of request with a new id, and never echoes the client's", async () => {
    const answers = await Promise.all([
      request(`${app.baseUrl}/api/health`, { headers: { "x-request-id": "chosen-by-client" } }),
      request(`${app.baseUrl}/api/nothing-here`),
      postJson(`${app.baseUrl}/api/data/users`, "{not json"),
      request(`${app.baseUrl}/metrics`),
      request(`${app.baseUrl}/dashboard`),
    ]);
    expect(answers.map((a) => a.status)).toEqual([200, 404, 400, 404, 404]);
    const ids = answers.map((a) => a.headers.get("x-request-id"));
    for (const id of ids) expect(id).toMatch(ID_FORMAT);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe("X-Request-Id behind a trusted proxy", () => {
  let app: TestApp;
  const { log, lines } = captureLog();
  // The tests connect from 127.0.0.1: here that is the proxy.
  beforeAll(async () => {
    app = await startTestApp({ TRUSTED_PROXIES: "127.0.0.1" }, { log });
  });
  afterAll(async () => {
    await app?.stop();
  });

  it("keeps the proxy's id, and replaces one that is too long or has other characters", async () => {
    const kept = await request(`${app.baseUrl}/api/health`, { headers: { "x-request-id": "edge-7f3a:42" } });
    expect(kept.headers.get("x-request-id")).toBe("edge-7f3a:42");
    for (const bad of ["x".repeat(129), "two words", "<b>", "a,b"]) {
      const replaced = await request(`${app.baseUrl}/api/health`, { headers: { "x-request-id": bad } });
      expect(replaced.headers.get("x-request-id")).toMatch(ID_FORMAT);
    }
    const data = await postJson(`${app.baseUrl}/api/data/users`, "{not json", { "x-request-id": "edge-data-1" });
    expect(data.headers.get("x-request-id")).toBe("edge-data-1");
  });

  it("puts the id in the log lines about the request", async () => {
    const { redeemed } = await logIn(app.baseUrl);
    const res = await postJson(
      `${app.baseUrl}/api/apps`,
      { name: "Traced" },
      { authorization: `Bearer ${redeemed.accessToken}`, "x-request-id": "edge-apps-1" },
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("x-request-id")).toBe("edge-apps-1");
    const created = lines.filter((line) => line.event === "app_created");
    expect(created).toHaveLength(1);
    expect(created[0]!.requestId).toBe("edge-apps-1");
  });

  it("names the id in a 500's message, its header and its one log line", async () => {
    const login = app.ctx.login;
    const readLoginRequest = login.readLoginRequest;
    // A fault no client can cause: the route's service throws.
    login.readLoginRequest = () => Promise.reject(new Error("the store is gone"));
    let res;
    try {
      res = await request(`${app.baseUrl}/api/login/requests/${"A".repeat(22)}`, {
        headers: { "x-request-id": "edge-500-1" },
      });
    } finally {
      login.readLoginRequest = readLoginRequest;
    }
    expect(res.status).toBe(500);
    expect(res.headers.get("x-request-id")).toBe("edge-500-1");
    expect(res.body).toEqual({
      error: { code: "internal_error", message: "Something went wrong (request edge-500-1)." },
    });
    const failed = lines.filter((line) => line.msg === "unhandled error" && line.requestId === "edge-500-1");
    expect(failed).toHaveLength(1);
  });

  it("numbers a socket's events after its handshake's id: the failing one's id is in its ack and its log line", async () => {
    const { socket } = await connectSocket(app.baseUrl, { extraHeaders: { "x-request-id": "edge-socket-9" } });
    const login = app.ctx.login;
    const startLogin = login.startLogin;
    try {
      const first = await emitAck(socket as unknown as Socket, "login:start", {});
      expect(first).toMatchObject({ ok: true });
      // A fault no client can cause: the second event's handler throws.
      login.startLogin = () => Promise.reject(new Error("the store is gone"));
      const second = await emitAck(socket as unknown as Socket, "login:start", {});
      expect(second).toEqual({
        ok: false,
        error: { code: "internal_error", message: "Something went wrong (request edge-socket-9.2)." },
      });
    } finally {
      login.startLogin = startLogin;
      socket.disconnect();
    }
    const failed = lines.filter((line) => line.msg === "socket handler failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ requestId: "edge-socket-9.2", event: "login:start" });
    expect(JSON.stringify(failed[0])).not.toMatch(/browserSecret/);
  });
});
