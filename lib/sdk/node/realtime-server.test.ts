import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Pusher from "pusher";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { RealtimeApiError, RealtimeServer, readPemOrFile } from "./realtime-server";
import { createSignedQueryString } from "./pusher-signing";

const credentials = { appId: "4242", key: "app-key-1", secret: "s3cr3t-value" };
const NOW_MS = Date.UTC(2030, 0, 1, 12, 0, 0, 700);
const official = new Pusher({ ...credentials, host: "127.0.0.1", port: "1", useTLS: false });

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: string;
}

let server: Server;
let endpoint: string;
const seen: Seen[] = [];
let reply: (seen: Seen) => { status: number; body: string } = () => ({ status: 200, body: "{}" });

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const entry = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      };
      seen.push(entry);
      const { status, body } = reply(entry);
      res.writeHead(status, { "content-type": "application/json" }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(() => {
  seen.length = 0;
  reply = () => ({ status: 200, body: "{}" });
  vi.restoreAllMocks();
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

const sdk = (options: Partial<ConstructorParameters<typeof RealtimeServer>[2]> = {}) =>
  new RealtimeServer(credentials.appId, credentials.secret, {
    appKey: credentials.key,
    endpoint,
    now: () => NOW_MS,
    ...options,
  });

/** What the official package sends for the same call at the same instant: path?query. */
function officialQuery(request: { method: string; path: string; params?: Record<string, string>; body?: string }) {
  vi.spyOn(Date, "now").mockReturnValue(NOW_MS);
  return official.createSignedQueryString(request);
}

describe("signing", () => {
  it("builds the same query string as the pusher package, byte for byte", () => {
    const cases = [
      { method: "POST", path: "/apps/4242/events", body: '{"name":"e","data":"{}","channels":["a"]}' },
      { method: "GET", path: "/apps/4242/channels", params: { filter_by_prefix: "presence-", info: "user_count" } },
      { method: "GET", path: "/apps/4242/channels/presence-x/users" },
      { method: "post", path: "/apps/4242/users/u%201/terminate_connections", body: "{}" },
      { method: "POST", path: "/apps/4242/events", body: '{"data":"é ü ✓"}' },
    ];
    for (const request of cases) {
      const ours = createSignedQueryString(credentials, { ...request, timestamp: NOW_MS / 1000 });
      expect(ours).toBe(officialQuery(request));
    }
  });

  it("refuses to let a parameter override an auth one", () => {
    expect(() =>
      createSignedQueryString(credentials, { method: "GET", path: "/x", params: { auth_key: "k" }, timestamp: 1 }),
    ).toThrow(TypeError);
  });

  it("signs channel auth exactly as authorizeChannel, private and presence", () => {
    const server = sdk();
    expect(server.authenticate("123.456", "private-room")).toEqual(
      official.authorizeChannel("123.456", "private-room"),
    );
    const member = { user_id: "u-1", user_info: { name: "Ann", tags: ["ü", 1] } };
    const ours = server.authenticate("123.456", "presence-room", member);
    expect(ours).toEqual(official.authorizeChannel("123.456", "presence-room", member));
    expect(ours.channel_data).toBe(JSON.stringify(member));
  });

  it("checks the socket id and channel name like the official SDK", () => {
    expect(() => sdk().authenticate("nope", "private-room")).toThrow(TypeError);
    expect(() => sdk().authenticate("1.2", "bad name")).toThrow(TypeError);
  });
});

describe("requests", () => {
  it("sends what the official SDK sends for trigger, batch, channels, users and terminate", async () => {
    const ours = sdk({ token: "gateway-token" });
    await ours.trigger(["a", "b"], "greet", { hi: 1 }, { socketId: "1.2" });
    await ours.triggerBatch([{ channel: "a", name: "one", data: "x" }]);
    await ours.channels({ filterByPrefix: "presence-", info: "user_count" });
    await ours.channelUsers("presence-x");
    await ours.terminateUserConnections("u 1");
    const [trigger, batch, channels, users, terminate] = seen;
    expect(trigger?.method).toBe("POST");
    expect(trigger?.body).toBe('{"name":"greet","data":"{\\"hi\\":1}","channels":["a","b"],"socket_id":"1.2"}');
    expect(trigger?.headers["content-type"]).toBe("application/json");
    expect(trigger?.headers.authorization).toBe("Bearer gateway-token");
    expect(batch?.body).toBe('{"batch":[{"channel":"a","name":"one","data":"x"}]}');
    expect(channels?.url.split("?")[0]).toBe("/apps/4242/channels");
    expect(users?.url.split("?")[0]).toBe("/apps/4242/channels/presence-x/users");
    expect(terminate?.url.split("?")[0]).toBe("/apps/4242/users/u%201/terminate_connections");
    // The query carries the same signed values the official SDK computes.
    for (const entry of seen) {
      const [path = "", query = ""] = entry.url.split("?");
      const params = Object.fromEntries(new URLSearchParams(query));
      const expected = Object.fromEntries(
        new URLSearchParams(
          officialQuery({
            method: entry.method,
            path,
            body: entry.body || undefined,
            params: Object.fromEntries(
              Object.entries(params).filter(([k]) => !k.startsWith("auth_") && k !== "body_md5"),
            ),
          }),
        ),
      );
      expect(params).toEqual(expected);
    }
  });

  it("maps error bodies, other answers and no answer to RealtimeApiError", async () => {
    reply = () => ({ status: 401, body: '{"error":{"code":"invalid_auth","message":"Bad signature."}}' });
    await expect(sdk().channels()).rejects.toMatchObject({
      status: 401,
      code: "invalid_auth",
      message: "Bad signature.",
    });
    reply = () => ({ status: 502, body: "<html>" });
    await expect(sdk().channels()).rejects.toMatchObject({ status: 502, code: "invalid_response" });
    reply = () => ({ status: 500, body: "{}" });
    await expect(sdk().channels()).rejects.toMatchObject({ status: 500, code: "invalid_response" });
    const closed = new RealtimeServer("1", "s", { appKey: "k", endpoint: "http://127.0.0.1:1" });
    const error = await closed.channels().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(RealtimeApiError);
    expect(error).toMatchObject({ status: 0, code: "network_error" });
    expect(String((error as Error).message)).not.toContain("s3cr3t");
  });

  it("rejects bad arguments before sending", async () => {
    await expect(sdk().trigger([], "e", {})).rejects.toThrow(TypeError);
    await expect(sdk().trigger("bad name", "e", {})).rejects.toThrow(TypeError);
    await expect(sdk().trigger("a", "e", {}, { socketId: "x" })).rejects.toThrow(TypeError);
    expect(seen).toEqual([]);
  });

  it("needs an https endpoint with a cert and key for mtls", () => {
    expect(() => sdk({ mtls: { enabled: true, cert: "c", key: "k" } })).toThrow(/https/);
    expect(() => sdk({ endpoint: "https://127.0.0.1:1", mtls: { enabled: true } })).toThrow(/cert and key/);
  });

  it("reads PEM text as given (with \\n escapes) and anything else as a path", () => {
    expect(readPemOrFile("-----BEGIN X-----\\nabc\\n-----END X-----")).toBe("-----BEGIN X-----\nabc\n-----END X-----");
    expect(() => readPemOrFile("/nonexistent/cert.pem")).toThrow();
  });
});
