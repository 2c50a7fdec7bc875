/**
 * Signed data fetches against a running server (docs/protocol.md section 3): apps through
 * their routes, the SDK reading `users` and `logins`, every refusal with its code and
 * status (never a 500), a disabled app, and replays.
 */
import { request as httpRequest } from "node:http";
import { Wallet, hashMessage, hexlify, randomBytes } from "ethers";
import { Web3 } from "web3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AppResponse, CreateAppResponse, DataMessage, ListAppsResponse } from "../../lib/protocol/data";
import { DataApiError, createDataClient } from "../../lib/sdk/data-client";
import type { DataClient } from "../../lib/sdk/data-client";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { expectError, logIn, postJson, request } from "../protocol/helpers";
import type { HttpResult } from "../protocol/helpers";

let app: TestApp;
/** Three signed-in users: the first owns the apps. */
let users: Array<{ address: string; accessToken: string; id: string }>;

beforeAll(async () => {
  app = await startTestApp();
  users = [];
  for (let i = 0; i < 3; i++) {
    const { redeemed } = await logIn(app.baseUrl);
    users.push({ address: redeemed.user.address, accessToken: redeemed.accessToken, id: redeemed.user.id });
  }
});
afterAll(async () => {
  await app?.stop();
});

/** The first example address of EIP-55. */
const EIP55_EXAMPLE = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed";

/**
 * The EIP-55 address with one letter in the other case, still mixed case: a broken
 * checksum (an all-lower or all-upper address carries none and is valid). A letter of the
 * more common case is flipped, so both cases remain.
 */
function withBrokenChecksum(address: string): string {
  const letters = [...address.slice(2)].flatMap((c, i) => (/[a-fA-F]/.test(c) ? [i + 2] : []));
  const lower = letters.filter((i) => address[i] === address[i]!.toLowerCase());
  const upper = letters.filter((i) => address[i] === address[i]!.toUpperCase());
  const at = (lower.length >= upper.length ? lower : upper)[0];
  if (at === undefined || letters.length < 3) throw new Error("too few letters to break a checksum");
  const c = address[at]!;
  const flipped = c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase();
  return address.slice(0, at) + flipped + address.slice(at + 1);
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const owner = () => users[0]!;
const stranger = () => users[1]!;

async function registerApp(body: Record<string, unknown> = { name: "Reports" }, token = owner().accessToken) {
  const res = await postJson<CreateAppResponse>(`${app.baseUrl}/api/apps`, body, bearer(token));
  expect(res.status).toBe(201);
  return res.body;
}

async function registerClient(name = "Reports"): Promise<{ client: DataClient; appId: string; privateKey: string }> {
  const created = await registerApp({ name });
  const privateKey = created.privateKey!;
  return {
    client: createDataClient({ endpoint: app.baseUrl, appId: created.app.id, privateKey }),
    appId: created.app.id,
    privateKey,
  };
}

function message(appId: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    appId,
    iat: now,
    exp: now + 120,
    nonce: hexlify(randomBytes(8)),
    metaData: { limit: 10, page: 1 },
    ...overrides,
  };
}

function sign(privateKey: string, msg: unknown) {
  const text = typeof msg === "string" ? msg : JSON.stringify(msg);
  return { message: msg, fyresign: new Wallet(privateKey).signMessageSync(text), messageHash: hashMessage(text) };
}

const postData = (resource: string, body: unknown) => postJson(`${app.baseUrl}/api/data/${resource}`, body);

describe("apps", () => {
  it("registers with a generated key (returned once, no-store), lists, and never shows the key again", async () => {
    const res = await postJson<CreateAppResponse>(
      `${app.baseUrl}/api/apps`,
      { name: "  Billing  " },
      bearer(owner().accessToken),
    );
    expect(res.status).toBe(201);
    expect(res.headers.get("cache-control")).toBe("no-store");
    const { app: created, privateKey } = res.body;
    expect(created).toEqual({
      id: expect.any(String),
      name: "Billing",
      address: new Wallet(privateKey!).address,
      active: true,
      createdAt: expect.any(String),
      lastUsedAt: null,
    });
    const list = await request<ListAppsResponse>(`${app.baseUrl}/api/apps`, { headers: bearer(owner().accessToken) });
    expect(list.status).toBe(200);
    expect(list.body.apps).toContainEqual(created);
    expect(list.text).not.toContain(privateKey!.slice(2));
    const others = await request<ListAppsResponse>(`${app.baseUrl}/api/apps`, {
      headers: bearer(stranger().accessToken),
    });
    expect(others.body.apps.map((a) => a.id)).not.toContain(created.id);
  });

  it("registers an existing address (checksummed) without a key", async () => {
    const address = new Wallet(hexlify(randomBytes(32))).address;
    const created = await registerApp({ name: "Own key", address: address.toLowerCase() });
    expect(created.app.address).toBe(address);
    expect(created.privateKey).toBeUndefined();
  });

  it("refuses bad input with 400 and missing tokens with 401", async () => {
    const url = `${app.baseUrl}/api/apps`;
    const token = bearer(owner().accessToken);
    for (const body of [
      {},
      { name: "" },
      { name: "   " },
      { name: "x".repeat(101) },
      { name: 12 },
      { name: "ok\u0000" },
      { name: "ok", address: "0x1234" },
      { name: "ok", address: withBrokenChecksum(EIP55_EXAMPLE) },
      { name: "ok", extra: true },
    ]) {
      expectError(await postJson(url, body, token), 400, "invalid_request");
    }
    expectError(await postJson(url, "{not json", token), 400, "invalid_request");
    expect((await postJson(url, { name: "x".repeat(100) }, token)).status).toBe(201);
    const noToken = await postJson(url, { name: "x" });
    expectError(noToken, 401, "invalid_token");
    expect(noToken.headers.get("www-authenticate")).toMatch(/^Bearer/);
    expectError(await request(url), 401, "invalid_token");
    expectError(await postJson(`${url}/whatever/disable`, {}), 401, "invalid_token");
  });

  it("disables and enables for the owner only: 403 for another user, 404 for an unknown id", async () => {
    const { app: created } = await registerApp({ name: "Toggle" });
    const url = (action: string, id = created.id) => `${app.baseUrl}/api/apps/${id}/${action}`;
    expectError(await postJson(url("disable"), {}, bearer(stranger().accessToken)), 403, "forbidden");
    expectError(await postJson(url("disable", "unknown-app-id"), {}, bearer(owner().accessToken)), 404, "not_found");
    const disabled = await postJson<AppResponse>(url("disable"), {}, bearer(owner().accessToken));
    expect(disabled.status).toBe(200);
    expect(disabled.body.app).toMatchObject({ id: created.id, active: false });
    const enabled = await postJson<AppResponse>(url("enable"), {}, bearer(owner().accessToken));
    expect(enabled.body.app.active).toBe(true);
  });
});

describe("signed data fetches", () => {
  it("reads users and logins with the SDK: the signed-in users are there, in order, with meta", async () => {
    const { client } = await registerClient();
    const page = await client.fetch("users", { limit: 100 });
    expect(page.meta).toEqual({ page: 1, limit: 100, total: 3, pages: 1 });
    expect(page.data.map((user) => user.address)).toEqual(users.map((user) => user.address));
    expect(page.data[0]).toEqual({
      id: owner().id,
      address: owner().address,
      claims: {},
      createdAt: expect.any(String),
      lastLoginAt: expect.any(String),
    });

    const logins = await client.fetch("logins", { limit: 100 });
    expect(logins.meta.total).toBe(3);
    expect(logins.data.map((login) => login.address)).toEqual(users.map((user) => user.address));
    expect(logins.data[0]).toEqual({
      id: expect.any(String),
      userId: owner().id,
      address: owner().address,
      at: expect.any(String),
      method: "qr",
      userAgent: expect.any(String),
    });
    expect(JSON.stringify(logins)).not.toMatch(/"ip"/);
  });

  it("pages with limit and page, meta {page, limit, total, pages}", async () => {
    const { client } = await registerClient();
    const pages = await Promise.all([1, 2, 3].map((p) => client.fetch("users", { limit: 2, page: p })));
    expect(pages.map((p) => p.meta)).toEqual([1, 2, 3].map((p) => ({ page: p, limit: 2, total: 3, pages: 2 })));
    expect(pages.map((p) => p.data.length)).toEqual([2, 1, 0]);
    expect(pages.flatMap((p) => p.data.map((user) => user.address))).toEqual(users.map((user) => user.address));
  });

  it("accepts a request signed with web3 exactly as web3.eth.accounts.sign(JSON.stringify(message), key)", async () => {
    const { appId, privateKey } = await registerClient();
    const msg = message(appId);
    const signed = new Web3().eth.accounts.sign(JSON.stringify(msg), privateKey);
    const res = await postData("users", { message: msg, fyresign: signed.signature, messageHash: signed.messageHash });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ meta: { page: 1, limit: 10, total: 3, pages: 1 } });
  });

  it("accepts the signed text sent as a string", async () => {
    const { appId, privateKey } = await registerClient();
    const res = await postData("logins", sign(privateKey, JSON.stringify(message(appId), null, 1)));
    expect(res.status).toBe(200);
  });

  it("stamps lastUsedAt", async () => {
    const { client, appId } = await registerClient("Stamped");
    await client.fetch("users");
    await expect
      .poll(async () => {
        const list = await request<ListAppsResponse>(`${app.baseUrl}/api/apps`, {
          headers: bearer(owner().accessToken),
        });
        return list.body.apps.find((a) => a.id === appId)?.lastUsedAt ?? null;
      })
      .not.toBeNull();
  });

  it("answers every bad input with its code, never a 500", async () => {
    const { appId, privateKey } = await registerClient();
    const now = Math.floor(Date.now() / 1000);
    const other = new Wallet(hexlify(randomBytes(32)));
    const cases: Array<[string, () => Promise<HttpResult>, number, string]> = [
      ["unknown resource", () => postData("accounts", sign(privateKey, message(appId))), 404, "unknown_resource"],
      ["malformed JSON", () => postData("users", "{oops"), 400, "invalid_request"],
      ["a JSON array body", () => postData("users", "[]"), 400, "invalid_request"],
      [
        "a numeric message",
        () => postData("users", { message: 5, fyresign: sign(privateKey, "x").fyresign }),
        400,
        "invalid_request",
      ],
      ["a non-JSON string message", () => postData("users", sign(privateKey, "hello")), 400, "invalid_request"],
      ["no fyresign", () => postData("users", { message: message(appId) }), 400, "invalid_request"],
      [
        "a short fyresign",
        () => postData("users", { message: message(appId), fyresign: "0x1234" }),
        400,
        "invalid_request",
      ],
      [
        "metaData a string",
        () => postData("users", sign(privateKey, message(appId, { metaData: "x" }))),
        400,
        "invalid_request",
      ],
      [
        "limit 0",
        () => postData("users", sign(privateKey, message(appId, { metaData: { limit: 0, page: 1 } }))),
        400,
        "invalid_request",
      ],
      [
        "limit 1000",
        () => postData("users", sign(privateKey, message(appId, { metaData: { limit: 1000, page: 1 } }))),
        400,
        "invalid_request",
      ],
      [
        "page 0",
        () => postData("users", sign(privateKey, message(appId, { metaData: { limit: 10, page: 0 } }))),
        400,
        "invalid_request",
      ],
      ["an unknown app", () => postData("users", sign(privateKey, message("no-such-app"))), 401, "unknown_app"],
      ["another key", () => postData("users", sign(other.privateKey, message(appId))), 401, "invalid_signature"],
      [
        "a wrong messageHash",
        () => postData("users", { ...sign(privateKey, message(appId)), messageHash: hashMessage("other") }),
        401,
        "invalid_signature",
      ],
      [
        "an expired message",
        () => postData("users", sign(privateKey, message(appId, { iat: now - 600, exp: now - 5 }))),
        401,
        "expired",
      ],
      [
        "iat 2 minutes ahead",
        () => postData("users", sign(privateKey, message(appId, { iat: now + 120, exp: now + 300 }))),
        401,
        "invalid_window",
      ],
      [
        "a window over a day",
        () => postData("users", sign(privateKey, message(appId, { iat: now, exp: now + 86_401 }))),
        401,
        "invalid_window",
      ],
      [
        "a body over 16 KiB",
        () => postData("users", sign(privateKey, message(appId, { padding: "x".repeat(17 * 1024) }))),
        413,
        "payload_too_large",
      ],
    ];
    for (const [name, send, status, code] of cases) {
      const res = await send();
      expect({ name, status: res.status, code: (res.body as { error?: { code?: string } })?.error?.code }).toEqual({
        name,
        status,
        code,
      });
      expectError(res, status, code);
    }
  });

  it("answers 413 to a chunked body over 16 KiB, and reads a chunked body under it", async () => {
    const { appId, privateKey } = await registerClient();
    const sendChunked = (payload: string) =>
      new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(
          `${app.baseUrl}/api/data/users`,
          { method: "POST", headers: { "content-type": "application/json", "transfer-encoding": "chunked" } },
          (res) => {
            let text = "";
            res.setEncoding("utf8");
            res.on("data", (chunk: string) => (text += chunk));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, text }));
          },
        );
        req.on("error", reject);
        for (let i = 0; i < payload.length; i += 1000) req.write(payload.slice(i, i + 1000));
        req.end();
      });
    const big = await sendChunked(JSON.stringify(sign(privateKey, message(appId, { padding: "x".repeat(17 * 1024) }))));
    expect({ status: big.status, body: JSON.parse(big.text) as unknown }).toEqual({
      status: 413,
      body: { error: { code: "payload_too_large", message: expect.any(String) } },
    });
    const small = await sendChunked(
      JSON.stringify(sign(privateKey, message(appId, { padding: "x".repeat(8 * 1024) }))),
    );
    expect(small.status).toBe(200);
  });

  it("refuses a replayed signature", async () => {
    const { appId, privateKey } = await registerClient();
    const body = sign(privateKey, message(appId));
    expect((await postData("users", body)).status).toBe(200);
    expectError(await postData("users", body), 401, "replayed");
    expectError(await postData("logins", body), 401, "replayed");
    const concurrent = sign(privateKey, message(appId));
    const answers = await Promise.all(Array.from({ length: 10 }, () => postData("users", concurrent)));
    expect(answers.map((a) => a.status).sort()).toEqual([200, ...Array<number>(9).fill(401)]);
  });

  it("refuses a disabled app at once, and serves it again once enabled", async () => {
    const { client, appId } = await registerClient();
    await client.fetch("users");
    expect((await postJson(`${app.baseUrl}/api/apps/${appId}/disable`, {}, bearer(owner().accessToken))).status).toBe(
      200,
    );
    await expect(client.fetch("users")).rejects.toMatchObject({ code: "unknown_app", status: 401 });
    expect((await postJson(`${app.baseUrl}/api/apps/${appId}/enable`, {}, bearer(owner().accessToken))).status).toBe(
      200,
    );
    expect((await client.fetch("users")).meta.total).toBe(3);
  });

  it("limits each app per minute with 429 rate_limited and Retry-After", async () => {
    const { client, appId } = await registerClient();
    await app.ctx.db.app.update({ where: { id: appId }, data: { rateLimitPerMinute: 2 } });
    await client.fetch("users");
    await client.fetch("users");
    const refused = await client.fetch("users").then(
      () => null,
      (error: unknown) => error,
    );
    expect(refused).toBeInstanceOf(DataApiError);
    expect(refused).toMatchObject({ code: "rate_limited", status: 429 });
    expect((refused as DataApiError).retryAfterSeconds).toBeGreaterThan(0);
    expect((refused as DataApiError).retryAfterSeconds).toBeLessThanOrEqual(60);
  });

  it("answers other methods and deeper paths under /api/data with 404 not_found", async () => {
    expectError(await request(`${app.baseUrl}/api/data/users`), 404, "not_found");
    expectError(await postData("users/extra", {}), 404, "not_found");
  });

  it("does not answer browsers' preflights for the data route (server to server only)", async () => {
    const res = await request(`${app.baseUrl}/api/data/users`, {
      method: "OPTIONS",
      headers: { origin: "https://evil.example", "access-control-request-method": "POST" },
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("signs messages the SDK way: a nonce, iat now and exp a few minutes later", () => {
    const client = createDataClient({ endpoint: app.baseUrl, appId: "a", privateKey: hexlify(randomBytes(32)) });
    const { message: signed } = client.signRequest();
    const msg = signed as DataMessage;
    expect(msg.exp - msg.iat).toBe(300);
    expect(Math.abs(msg.iat - Date.now() / 1000)).toBeLessThan(5);
  });
});
