/**
 * SIGTERM in the middle of logins (issue 13 item 2, docs/protocol.md section 8 "Stopping"): a
 * server process with wallets' answers on the wire when the signal arrives. Each answer was
 * sent in two parts, the second after SIGTERM; every one of them is answered (200, the login
 * approved), every browser hears its approval before its socket is closed, readiness answers
 * 503 `draining` (with `Connection: close`) on a connection that was already open, every
 * connection is closed by the server, and the process exits 0.
 *
 * The fence for "the drain has begun": a new connection is refused (the listener stopped
 * accepting, which the drain does right after readiness turns 503).
 */
import { mkdtemp, rm } from "node:fs/promises";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLoginClient } from "../../lib/client/login-client";
import type { LoginClient } from "../../lib/client/login-client";
import { API_PATHS } from "../../lib/protocol/login";
import { createAuthBody, createWalletKey, fetchLoginRequest } from "../../lib/wallet";
import { isPortOpen } from "../support/services";
import { startServerProcesses } from "../support/server-process";
import type { ServerProcess } from "../support/server-process";

const LOGINS = 6;
const WAIT_MS = 20_000;

/** A raw HTTP/1.1 connection: write requests in parts, read the responses as they come. */
function openConnection(port: number): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = connect({ port, host: "127.0.0.1" }, () => resolve({ socket, received: () => text, closed }));
    const closed = new Promise<void>((done) => socket.once("close", () => done()));
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (text += chunk));
    socket.once("error", reject);
  });
}

async function eventually(what: string, check: () => boolean | Promise<boolean>) {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${WAIT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("SIGTERM while logins are under way", () => {
  let dataDir: string;
  let server: ServerProcess | undefined;
  const browsers: LoginClient[] = [];

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "wallet-login-drain-"));
    const [started] = await startServerProcesses(["drain"], ([port]) => ({
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
    }));
    server = started;
  }, 60_000);

  afterAll(async () => {
    for (const browser of browsers) browser.close();
    await server?.stop(5_000);
    await rm(dataDir, { recursive: true, force: true });
  });

  it("answers every request on the wire, tells every browser, and exits 0", async () => {
    const running = server!;
    const port = Number(new URL(running.url).port);
    const logins = await Promise.all(
      Array.from({ length: LOGINS }, async () => {
        const browser = createLoginClient({ endpoint: running.url, io: { reconnection: false } });
        browsers.push(browser);
        const session = await browser.start();
        const request = await fetchLoginRequest(session.qr);
        const body = JSON.stringify(
          await createAuthBody({ key: createWalletKey(), request, matchCode: session.matchCode }),
        );
        const connection = await openConnection(port);
        const half = Math.floor(body.length / 2);
        // Headers and half the body: the request is under way when SIGTERM arrives.
        connection.socket.write(
          `POST ${API_PATHS.auth} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\n` +
            `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body.slice(0, half)}`,
        );
        const approved = browser.waitForState(["approved"], { timeoutMs: WAIT_MS });
        return { connection, rest: body.slice(half), approved };
      }),
    );

    running.child.kill("SIGTERM");
    await eventually("the listener stops accepting", async () => !(await isPortOpen(port)));

    // The rest of each body, and on the first connection a readiness check behind it.
    for (const [i, { connection, rest }] of logins.entries()) {
      const ready = i === 0 ? `GET /api/ready HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n` : "";
      connection.socket.write(rest + ready);
    }
    for (const { connection } of logins) await connection.closed;

    for (const [i, { connection }] of logins.entries()) {
      const text = connection.received();
      expect(text, text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
      expect(text).toContain('{"ok":true,"state":"approved"}');
      if (i === 0) {
        // Asked after the drain began, on a connection opened before: 503, and its last answer.
        const second = text.slice(text.indexOf("HTTP/1.1", 10));
        expect(second).toMatch(/^HTTP\/1\.1 503 Service Unavailable\r\nConnection: close\r\n/);
        expect(second).toContain('"draining":true');
        expect(second).toContain('"code":"unavailable"');
      }
    }
    const states = await Promise.all(logins.map(({ approved }) => approved));
    for (const state of states) expect(state).toMatchObject({ state: "approved" });
    expect(await running.exited).toEqual({ code: 0, signal: null });
  });
});
