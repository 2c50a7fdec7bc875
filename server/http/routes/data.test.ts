import { createServer, request, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { Wallet, hexlify, randomBytes } from "ethers";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../../db/client";
import { createMetrics } from "../../metrics/metrics";
import { createProxyTrust } from "../client-ip";
import { createRequestIds } from "../request-id";
import { createSignatureVerifier } from "../../crypto/secp256k1";
import type { AppDirectory } from "../../data/app-directory";
import { createMemoryStores } from "../../store/memory";
import { UnavailableError, createAvailability } from "../../availability";
import { createDataEndpoint, isDataFetchPath, requestPath, type DataEndpointDeps } from "./data";

// The endpoint alone, on a real Node server. Its happy path and every refusal are covered
// against the whole server in test/data/data-api.test.ts; this covers what is its own.
const logged: Array<Record<string, unknown>> = [];
const log = pino(
  { level: "debug" },
  new Writable({
    write(chunk: Buffer, _encoding, done) {
      logged.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  }),
);
let findError: Error = new Error("database is down");
const failingApps: AppDirectory = {
  find: () => Promise.reject(findError),
  forget() {},
  noteUse() {},
};
let port = 0;
const server = createServer();

beforeAll(async () => {
  const ctx: DataEndpointDeps = {
    // Never reached: the app directory fails before any page is read.
    db: {} as Db,
    log,
    verifier: await createSignatureVerifier("auto"),
    stores: createMemoryStores(),
    metrics: createMetrics({ dependencies: ["database"], withDefaultMetrics: false }),
    requestIds: createRequestIds(log, createProxyTrust([])),
    availability: createAvailability({ log }),
  };
  const endpoint = createDataEndpoint(ctx, failingApps);
  server.on("request", (req, res) => void endpoint(req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

function post(path: string, body: string) {
  return new Promise<{ status: number; headers: Record<string, unknown>; json: unknown }>((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, method: "POST", path }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (d: string) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, json: JSON.parse(text) }));
    });
    req.on("error", reject);
    req.end(body);
  });
}

function signedBody() {
  const wallet = new Wallet(hexlify(randomBytes(32)));
  const iat = Math.floor(Date.now() / 1000);
  const message = { appId: "some-app", iat, exp: iat + 60, nonce: "n1", metaData: { limit: 20, page: 1 } };
  return JSON.stringify({ message, fyresign: wallet.signMessageSync(JSON.stringify(message)) });
}

describe("the data fetch endpoint", () => {
  it("takes exactly POST /api/data/<one segment>", () => {
    expect(isDataFetchPath("/api/data/users")).toBe(true);
    expect(isDataFetchPath("/api/data/users/1")).toBe(false);
    expect(isDataFetchPath("/api/database")).toBe(false);
  });

  it("answers a failing store or database with a generic 500 and logs it once with the request id", async () => {
    const res = await post("/api/data/users?x=1", signedBody());
    expect(res.status).toBe(500);
    expect(res.headers["content-type"]).toBe("application/json");
    const message = (res.json as { error: { code: string; message: string } }).error.message;
    expect(res.json).toMatchObject({ error: { code: "internal_error" } });
    expect(message).not.toMatch(/database is down/);
    const requestId = /request ([\w-]+)\)/.exec(message)?.[1];
    const errors = logged.filter((line) => line.msg === "unhandled error");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ requestId, method: "POST", path: "/api/data/users" });
  });

  it("answers a dependency that does not answer with 503 unavailable and Retry-After, logged once", async () => {
    findError = new UnavailableError(
      "database",
      Object.assign(new Error("connect ECONNREFUSED"), { code: "ECONNREFUSED" }),
    );
    try {
      for (let i = 0; i < 2; i++) {
        const res = await post("/api/data/users", signedBody());
        expect(res.status).toBe(503);
        expect(res.headers["retry-after"]).toBe("1");
        expect(res.json).toMatchObject({ error: { code: "unavailable" } });
      }
      expect(logged.filter((line) => line.event === "dependency_down")).toEqual([
        expect.objectContaining({ dependency: "database", cause: "connect ECONNREFUSED" }),
      ]);
      expect(logged.filter((line) => line.msg === "unhandled error")).toHaveLength(1);
    } finally {
      findError = new Error("database is down");
    }
  });

  it("decodes the path as the router does, and refuses a segment that does not decode", async () => {
    expect((await post("/api/data/accounts", "{}")).json).toMatchObject({ error: { code: "unknown_resource" } });
    expect((await post("/api/data/%E0%A4%A", "{}")).status).toBe(404);
    // "us%65rs" is "users": it gets as far as the body check.
    expect((await post("/api/data/us%65rs", "[]")).json).toMatchObject({ error: { code: "invalid_request" } });
    expect(requestPath({ url: "/api/%64ata/users?x=%zz" } as IncomingMessage)).toBe("/api/data/users");
    expect(requestPath({ url: "/api/data/%E0%A4%A" } as IncomingMessage)).toBe("/api/data/%E0%A4%A");
  });
});
