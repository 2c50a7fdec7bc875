/**
 * The server API over mutual TLS (SERVER_API_MTLS_*): certificates made with the openssl
 * CLI in a temp folder; the SDK with the client certificate is served, a client without
 * one or with one from another CA fails in the TLS handshake and reaches nothing.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import type { IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect as tlsConnect } from "node:tls";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { RealtimeApiError, RealtimeServer, type RealtimeMtlsOptions } from "../../lib/sdk/node";
import type { AppCredentials } from "../../server/channels/signing";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { connectChannelClient, type ChannelClient } from "./helpers";

let dir: string;
let app: TestApp;
let credentials: AppCredentials;
const clients: RealtimeServer[] = [];
const opened: ChannelClient[] = [];

const file = (name: string) => path.join(dir, name);
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });

/** An EC key and a certificate for `cn` signed by `ca` (self-signed when `ca` is undefined). */
async function makeCert(name: string, cn: string, ca: string | undefined, extensions: string) {
  openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", file(`${name}.key`));
  if (ca === undefined) {
    openssl(
      "req",
      "-x509",
      "-new",
      "-key",
      file(`${name}.key`),
      "-subj",
      `/CN=${cn}`,
      "-days",
      "2",
      "-out",
      file(`${name}.crt`),
    );
    return;
  }
  await writeFile(file(`${name}.ext`), extensions);
  openssl("req", "-new", "-key", file(`${name}.key`), "-subj", `/CN=${cn}`, "-out", file(`${name}.csr`));
  openssl(
    "x509",
    "-req",
    "-in",
    file(`${name}.csr`),
    "-CA",
    file(`${ca}.crt`),
    "-CAkey",
    file(`${ca}.key`),
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    file(`${name}.ext`),
    "-out",
    file(`${name}.crt`),
  );
}

/**
 * A bare TLS 1.2 handshake with the mTLS port (1.2, so a refused client certificate fails
 * the handshake itself): "ok", or the error it failed with.
 */
function handshake(client: { cert?: string; key?: string }) {
  const { port } = new URL(app.mtlsUrl ?? "https://127.0.0.1:1");
  return new Promise<string>((resolve) => {
    const socket = tlsConnect({
      host: "127.0.0.1",
      port: Number(port),
      servername: "localhost",
      ca: readFileSync(file("ca.crt")),
      cert: client.cert === undefined ? undefined : readFileSync(file(client.cert)),
      key: client.key === undefined ? undefined : readFileSync(file(client.key)),
      maxVersion: "TLSv1.2",
    });
    socket.once("secureConnect", () => {
      socket.end();
      resolve("ok");
    });
    socket.once("error", (err: Error & { code?: string }) => resolve(`${err.code ?? ""} ${err.message}`));
  });
}

function sdk(mtls: RealtimeMtlsOptions) {
  const client = new RealtimeServer(credentials.appId, credentials.secret, {
    appKey: credentials.key,
    endpoint: app.mtlsUrl ?? "https://127.0.0.1:1",
    mtls,
    timeoutMs: 5_000,
  });
  clients.push(client);
  return client;
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "wallet-login-mtls-"));
  await makeCert("ca", "Test CA", undefined, "");
  await makeCert(
    "server",
    "localhost",
    "ca",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  await makeCert("client", "partner", "ca", "extendedKeyUsage=clientAuth\n");
  await makeCert("other-ca", "Other CA", undefined, "");
  await makeCert("intruder", "intruder", "other-ca", "extendedKeyUsage=clientAuth\n");
  app = await startTestApp({
    SERVER_API_MTLS_PORT: "0",
    SERVER_API_MTLS_CERT: file("server.crt"),
    SERVER_API_MTLS_KEY: file("server.key"),
    SERVER_API_MTLS_CA: await readFile(file("ca.crt"), "utf8"),
  });
  credentials = app.ctx.channelCredentials;
});
afterEach(() => {
  for (const client of opened.splice(0)) client.close();
});
afterAll(async () => {
  for (const client of clients) client.close();
  await app?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("the server API over mTLS", () => {
  it("serves the SDK with a client certificate from the CA (paths or PEM text)", async () => {
    expect(app.mtlsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const socket = await connectChannelClient(app.baseUrl);
    opened.push(socket);
    expect((await socket.subscribe("mtls-room")).ok).toBe(true);
    const byPath = sdk({ enabled: true, cert: file("client.crt"), key: file("client.key"), ca: file("ca.crt") });
    await byPath.trigger("mtls-room", "over-mtls", { ok: true });
    await socket.waitForEvent("mtls-room", "over-mtls");
    expect(await byPath.channels()).toEqual({ channels: { "mtls-room": {} } });
    const byPem = sdk({
      enabled: true,
      cert: await readFile(file("client.crt"), "utf8"),
      key: await readFile(file("client.key"), "utf8"),
      ca: await readFile(file("ca.crt"), "utf8"),
    });
    expect(await byPem.channel("mtls-room")).toEqual({ occupied: true });
  });

  it("still checks the request signature behind the certificate", async () => {
    const client = new RealtimeServer(credentials.appId, "wrong-secret", {
      appKey: credentials.key,
      endpoint: app.mtlsUrl ?? "",
      mtls: { enabled: true, cert: file("client.crt"), key: file("client.key"), ca: file("ca.crt") },
    });
    clients.push(client);
    await expect(client.channels()).rejects.toMatchObject({ status: 401, code: "invalid_auth" });
  });

  it("fails the handshake without a client certificate", async () => {
    const error = await sdk({ enabled: false, ca: file("ca.crt") })
      .channels()
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RealtimeApiError);
    expect(error).toMatchObject({ status: 0, code: "network_error" });
    expect((error as Error).message).toMatch(/certificate required|alert|ECONNRESET|hang up/i);
    expect(await handshake({})).toMatch(/handshake failure|alert/i);
  });

  it("fails the handshake with a client certificate from another CA", async () => {
    const intruder = sdk({ enabled: true, cert: file("intruder.crt"), key: file("intruder.key"), ca: file("ca.crt") });
    const error = await intruder.trigger("mtls-room", "nope", {}).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RealtimeApiError);
    expect(error).toMatchObject({ status: 0, code: "network_error" });
    expect((error as Error).message).toMatch(/unknown ca|alert|ECONNRESET|hang up/i);
    expect(await handshake({ cert: "intruder.crt", key: "intruder.key" })).toMatch(
      /unknown ca|alert|before secure TLS connection was established/i,
    );
    expect(await handshake({ cert: "client.crt", key: "client.key" })).toBe("ok");
  });

  it("serves only the server API on the mTLS port", async () => {
    const headersOf = new Map<string, IncomingHttpHeaders>();
    const get = (pathname: string) =>
      new Promise<number>((resolve, reject) => {
        const req = httpsRequest(
          `${app.mtlsUrl ?? ""}${pathname}`,
          {
            cert: readFileSync(file("client.crt")),
            key: readFileSync(file("client.key")),
            ca: readFileSync(file("ca.crt")),
          },
          (res) => {
            res.resume();
            headersOf.set(pathname, res.headers);
            resolve(res.statusCode ?? 0);
          },
        );
        req.on("error", reject);
        req.end();
      });
    expect(await get("/api/health")).toBe(200);
    expect(await get("/api/me")).toBe(404);
    expect(await get(`/apps/${credentials.appId}/channels`)).toBe(401);
    // Every answer carries the security headers and a request id (docs/protocol.md section 0).
    for (const headers of headersOf.values()) {
      expect(headers["x-frame-options"]).toBe("DENY");
      expect(headers["x-request-id"]).toMatch(/^[A-Za-z0-9._:@/+=-]+$/);
    }
    expect((await fetch(`${app.baseUrl}/api/health`)).status).toBe(200);
  });
});
