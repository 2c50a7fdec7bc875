/**
 * Client IPs behind a proxy (issue 11 item 3): with TRUSTED_PROXIES naming the proxy, a client
 * that writes its own X-Forwarded-For entries cannot pick its rate-limit bucket, over HTTP
 * (POST /api/auth, 429 per IP) and over Socket.IO (login:start per IP). Here the test process
 * is the proxy: it connects from 127.0.0.1 and appends the "real" client address last.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { connectSocket, emitAck, expectError, postJson } from "../protocol/helpers";

const AUTH_LIMIT = 3;
const fakeAnswer = { sessionId: "A".repeat(22), message: "x", signature: `0x${"1".repeat(130)}`, matchCode: "12" };

let app: TestApp;
beforeAll(async () => {
  app = await startTestApp({
    TRUSTED_PROXIES: "127.0.0.1",
    RATE_LIMIT_AUTH_PER_IP: String(AUTH_LIMIT),
    RATE_LIMIT_LOGIN_START_PER_IP: "2",
  });
});
afterAll(() => app?.stop());

describe("X-Forwarded-For from a trusted proxy", () => {
  it("limits POST /api/auth by the address the proxy appended, not by forged entries left of it", async () => {
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_LIMIT; i++) {
      const res = await postJson(`${app.baseUrl}/api/auth`, fakeAnswer, {
        "x-forwarded-for": `10.0.${i}.${i + 1}, 203.0.113.7`,
      });
      statuses.push(res.status);
    }
    expect(statuses.every((status) => status !== 429)).toBe(true);
    expectError(
      await postJson(`${app.baseUrl}/api/auth`, fakeAnswer, { "x-forwarded-for": "10.9.9.9, 203.0.113.7" }),
      429,
      "rate_limited",
    );
    // Another client behind the same proxy has its own allowance: the header is read.
    const other = await postJson(`${app.baseUrl}/api/auth`, fakeAnswer, { "x-forwarded-for": "203.0.113.8" });
    expect(other.status).not.toBe(429);
  });

  it("limits login:start per IP by the proxy's entry over Socket.IO too", async () => {
    const opened: Socket[] = [];
    try {
      const acks = [];
      for (let i = 0; i < 3; i++) {
        const { socket } = await connectSocket(app.baseUrl, {
          extraHeaders: { "x-forwarded-for": `192.0.2.${i}, 198.51.100.4` },
        });
        opened.push(socket as unknown as Socket);
        acks.push(await emitAck(socket as unknown as Socket, "login:start", {}));
      }
      expect(acks.map((ack) => ack.ok)).toEqual([true, true, false]);
      expect(acks[2]).toMatchObject({ ok: false, error: { code: "rate_limited" } });
      const { socket } = await connectSocket(app.baseUrl, { extraHeaders: { "x-forwarded-for": "198.51.100.5" } });
      opened.push(socket as unknown as Socket);
      expect(await emitAck(socket as unknown as Socket, "login:start", {})).toMatchObject({ ok: true });
    } finally {
      for (const socket of opened) socket.disconnect();
    }
  });
});
