/**
 * The front door of a real server process (`API_ONLY=true`, as benchmarks and multi-node
 * deployments run it), spoken to over raw TCP (issue 11 items 1, 2 and 7):
 * - a Socket.IO polling request is answered once, by Socket.IO, and the process stays up;
 * - upgrade requests to paths nobody serves are answered 400 and their descriptors freed
 *   (counted in /proc/<pid>/fd);
 * - absolute-form request lines are routed by their path on our host and refused on another.
 */
import { connect } from "node:net";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "../support/free-port";
import { spawnServerProcess, type ServerProcess } from "../support/server-process";

let server: ServerProcess;
let dataDir: string;

/** Writes `text` on a fresh connection and resolves with everything read until the server closes it. */
function exchange(port: number, text: string, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let received = "";
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server neither answered nor closed in ${timeoutMs} ms; got ${JSON.stringify(received)}`));
    }, timeoutMs);
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => (received += chunk));
    socket.once("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(received);
    });
    socket.write(text);
  });
}

/** The first bytes the server answers `text` with; the connection is closed by us then. */
function firstChunk(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.setEncoding("utf8");
    socket.once("data", (chunk: string) => {
      socket.destroy();
      resolve(chunk);
    });
    socket.once("error", reject);
    socket.write(text);
  });
}

async function openDescriptors(pid: number): Promise<number> {
  return (await readdir(`/proc/${pid}/fd`)).length;
}

beforeAll(async () => {
  const port = await findFreePort();
  dataDir = await mkdtemp(path.join(tmpdir(), "wallet-login-front-door-"));
  server = spawnServerProcess("api-only", port, {
    API_ONLY: "true",
    DATA_DIR: dataDir,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  });
  await server.waitUntilHealthy();
}, 60_000);

afterAll(async () => {
  await server?.stop();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("API-only server", () => {
  it("answers a Socket.IO polling request once and stays up", async () => {
    const answer = await exchange(
      server.port,
      "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.match(/^HTTP\/1\.1 /gm)).toHaveLength(1);
    // A fence: a request after it is served by the same, living process.
    const health = await fetch(`${server.url}/api/health`);
    expect(health.status).toBe(200);
    expect(server.child.exitCode).toBeNull();
    expect(server.output()).not.toMatch(/ERR_HTTP_HEADERS_SENT|uncaught/i);
  });
});

describe("upgrade requests nobody serves", () => {
  it("are answered 400 and closed, and their descriptors freed", async () => {
    const pid = server.child.pid!;
    const paths = ["/api/health", "/", "/api/me", "/apps/x", "/_next/webpack-hmr", "/nothing"];
    // Warm-up: anything the first requests open once (lazy modules, pools) is counted in `before`.
    await exchange(server.port, upgradeRequest("/api/health"));
    const before = await openDescriptors(pid);
    const answers: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      answers.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) => exchange(server.port, upgradeRequest(paths[i % paths.length]!))),
        )),
      );
    }
    expect(answers).toHaveLength(200);
    for (const answer of answers) expect(answer).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(answers[0]).toContain('"code":"invalid_request"');
    // With the headers every answer carries.
    expect(answers[0]).toMatch(/\r\nX-Frame-Options: DENY\r\n/);
    expect(answers[0]).toMatch(/\r\nContent-Security-Policy: default-src 'none'/);
    expect(answers[0]).toMatch(/\r\nX-Request-Id: [A-Za-z0-9._:@/+=-]+\r\n/);
    // Every connection was closed by the server (exchange resolved on close): none is left open.
    const after = await openDescriptors(pid);
    expect(after - before).toBeLessThan(20);
    // Socket.IO still takes its own upgrades.
    expect(await firstChunk(server.port, upgradeRequest("/socket.io/?EIO=4&transport=websocket"))).toMatch(
      /^HTTP\/1\.1 101 /,
    );
  });
});

describe("clients that reset at once", () => {
  it("do not take the process down, upgrades or plain requests", async () => {
    await Promise.all(
      Array.from(
        { length: 50 },
        (_, i) =>
          new Promise<void>((resolve) => {
            const socket = connect(server.port, "127.0.0.1", () => {
              socket.write(
                i % 2 ? upgradeRequest("/api/health") : "GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\n\r\n",
              );
              socket.resetAndDestroy();
              resolve();
            });
            socket.on("error", () => resolve());
          }),
      ),
    );
    // A fence: a request after them is served by the same, living process.
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200);
    expect(server.child.exitCode).toBeNull();
  });
});

describe("absolute-form request lines", () => {
  it("are refused with 400 when the host is not ours", async () => {
    const answer = await exchange(
      server.port,
      "GET http://evil.example/api/health HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    );
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('"code":"invalid_request"');
    expect(answer).not.toMatch(/location:/i);
  });

  it("are routed by their path when the host is ours", async () => {
    const answer = await exchange(
      server.port,
      `GET http://127.0.0.1:${server.port}/api/health HTTP/1.1\r\nHost: 127.0.0.1:${server.port}\r\nConnection: close\r\n\r\n`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 200 /);
    expect(answer).toMatch(/\r\n\r\n\{"ok":true/);
  });

  it("refuses targets that are neither origin- nor absolute-form", async () => {
    for (const target of ["*", "evil.example:443", "//evil.example/api/health"]) {
      const answer = await exchange(server.port, `GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
      expect(answer, target).toMatch(/^HTTP\/1\.1 400 /);
    }
  });
});

function upgradeRequest(target: string): string {
  return [
    `GET ${target} HTTP/1.1`,
    "Host: 127.0.0.1",
    "Connection: Upgrade",
    "Upgrade: websocket",
    "Sec-WebSocket-Version: 13",
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    "",
    "",
  ].join("\r\n");
}
