import { Wallet, hashMessage, hexlify, randomBytes, verifyMessage } from "ethers";
import { describe, expect, it } from "vitest";
import type { DataMessage, DataRequestBody } from "../protocol/data";
import { DataApiError, createDataClient } from "./data-client";

const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0, 500);
const key = () => new Wallet(hexlify(randomBytes(32)));

interface Call {
  url: string;
  init: RequestInit;
  body: DataRequestBody;
}

function fakeFetch(respond: (call: Call) => Response | Promise<Response>) {
  const calls: Call[] = [];
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const call = { url: String(input), init: init ?? {}, body: JSON.parse(String(init?.body)) as DataRequestBody };
    calls.push(call);
    return respond(call);
  }) as typeof fetch;
  return { fetchFn, calls };
}

const page = (data: unknown[] = []) =>
  Response.json({ data, meta: { page: 1, limit: 20, total: data.length, pages: data.length ? 1 : 0 } });

describe("createDataClient", () => {
  it("signs JSON.stringify(message) with the app's key and posts {message, fyresign, messageHash}", async () => {
    const wallet = key();
    const { fetchFn, calls } = fakeFetch(() => page([{ id: "u1" }]));
    const client = createDataClient({
      endpoint: "https://auth.example.com/",
      appId: "app1",
      privateKey: wallet.privateKey,
      fetch: fetchFn,
      now: () => NOW_MS,
    });
    expect(client.address).toBe(wallet.address);
    const result = await client.fetch("users", { limit: 5, page: 2, filters: { since: "2030-01-01", appId: "evil" } });
    expect(result.data).toEqual([{ id: "u1" }]);

    const [call] = calls;
    expect(call?.url).toBe("https://auth.example.com/api/data/users");
    expect(call?.init.method).toBe("POST");
    const message = call?.body.message as DataMessage;
    expect(message).toEqual({
      since: "2030-01-01",
      appId: "app1",
      iat: Math.floor(NOW_MS / 1000),
      exp: Math.floor(NOW_MS / 1000) + 300,
      nonce: expect.stringMatching(/^[0-9a-f]{32}$/),
      metaData: { limit: 5, page: 2 },
    });
    const text = JSON.stringify(message);
    expect(verifyMessage(text, call!.body.fyresign)).toBe(wallet.address);
    expect(call?.body.messageHash).toBe(hashMessage(text));
  });

  it("signs a different message each call, also within one second, and honours ttlSeconds", async () => {
    const { fetchFn, calls } = fakeFetch(() => page());
    const client = createDataClient({
      endpoint: "http://x",
      appId: "a",
      privateKey: key().privateKey,
      ttlSeconds: 60,
      fetch: fetchFn,
      now: () => NOW_MS,
    });
    await client.fetch("logins");
    await client.fetch("logins");
    const [first, second] = calls.map((call) => call.body);
    expect(first?.fyresign).not.toBe(second?.fyresign);
    expect((first?.message as DataMessage).nonce).not.toBe((second?.message as DataMessage).nonce);
    expect(first?.message).toMatchObject({ exp: Math.floor(NOW_MS / 1000) + 60, metaData: { limit: 20, page: 1 } });
  });

  it("refuses a bad key or ttl without echoing the key", () => {
    const attempt = () => createDataClient({ endpoint: "http://x", appId: "a", privateKey: "0xsecretsecret" });
    expect(attempt).toThrow(TypeError);
    try {
      attempt();
    } catch (error) {
      expect(String(error)).not.toContain("secretsecret");
    }
    for (const ttlSeconds of [0, 86_401, 1.5]) {
      expect(() =>
        createDataClient({ endpoint: "http://x", appId: "a", privateKey: key().privateKey, ttlSeconds }),
      ).toThrow(RangeError);
    }
  });

  it("turns protocol errors into DataApiError with code, status and Retry-After", async () => {
    const answers: Response[] = [
      Response.json({ error: { code: "replayed", message: "This signature was already used." } }, { status: 401 }),
      Response.json(
        { error: { code: "rate_limited", message: "Too many" } },
        { status: 429, headers: { "Retry-After": "7" } },
      ),
      Response.json({ error: { code: "not_found", message: "Not found." } }, { status: 404 }),
      new Response("<html>", { status: 502 }),
      Response.json({ data: "nope" }),
    ];
    const { fetchFn } = fakeFetch(() => answers.shift()!);
    const client = createDataClient({ endpoint: "http://x", appId: "a", privateKey: key().privateKey, fetch: fetchFn });
    const failure = async () => {
      try {
        await client.fetch("users");
      } catch (error) {
        if (error instanceof DataApiError)
          return { code: error.code, status: error.status, retry: error.retryAfterSeconds };
        throw error;
      }
      throw new Error("no error");
    };
    expect(await failure()).toEqual({ code: "replayed", status: 401, retry: undefined });
    expect(await failure()).toEqual({ code: "rate_limited", status: 429, retry: 7 });
    expect(await failure()).toEqual({ code: "invalid_response", status: 404, retry: undefined });
    expect(await failure()).toEqual({ code: "invalid_response", status: 502, retry: undefined });
    expect(await failure()).toEqual({ code: "invalid_response", status: 200, retry: undefined });
  });

  it("reports a fetch that fails as network_error", async () => {
    const client = createDataClient({
      endpoint: "http://x",
      appId: "a",
      privateKey: key().privateKey,
      fetch: (async () => {
        throw new TypeError("fetch failed");
      }) as typeof fetch,
    });
    await expect(client.fetch("users")).rejects.toMatchObject({
      name: "DataApiError",
      code: "network_error",
      status: 0,
    });
  });

  it("signRequest builds the same kind of body without sending it", () => {
    const wallet = key();
    const client = createDataClient({ endpoint: "http://x", appId: "a", privateKey: wallet.privateKey });
    const body = client.signRequest({ limit: 3 });
    expect(verifyMessage(JSON.stringify(body.message), body.fyresign)).toBe(wallet.address);
  });
});
