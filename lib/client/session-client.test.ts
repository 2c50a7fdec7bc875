import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { REFRESH_LOCK_NAME, SessionClientError, createSessionClient } from "./session-client";
import type { RefreshLocks } from "./session-client";

const USER = { id: "u1", address: "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", claims: {} };
const ME = { ...USER, createdAt: "2030-01-01T00:00:00.000Z", lastLoginAt: "2030-01-02T00:00:00.000Z" };

/**
 * A stand-in for the app's session endpoints. The refresh answer is held back until
 * `releaseRefreshes()` so concurrent callers really overlap; the cookie `wl_refresh=valid`
 * is a live session, anything else none.
 */
function startFakeApp() {
  const received: { method: string; path: string; cookie?: string; authorization?: string }[] = [];
  let heldRefreshes: (() => void)[] = [];
  let isHolding = false;
  let issued = 0;

  const sendJson = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? "";
    received.push({
      method: req.method ?? "",
      path,
      cookie: req.headers.cookie,
      authorization: req.headers.authorization,
    });
    if (req.method === "POST" && path === "/api/auth/refresh") {
      const answer = () => {
        if (req.headers.cookie !== "wl_refresh=valid") {
          return sendJson(res, 401, { error: { code: "invalid_token", message: "no session" } });
        }
        issued += 1;
        sendJson(res, 200, { accessToken: `token-${issued}`, tokenType: "Bearer", expiresIn: 900, user: USER });
      };
      if (isHolding) heldRefreshes.push(answer);
      else answer();
      return;
    }
    if (req.method === "GET" && path === "/api/me") {
      if (req.headers.authorization !== "Bearer good") {
        return sendJson(res, 401, { error: { code: "invalid_token", message: "bad token" } });
      }
      return sendJson(res, 200, { user: ME });
    }
    if (req.method === "POST" && path === "/api/auth/logout") return res.writeHead(204).end();
    sendJson(res, 404, { error: { code: "not_found", message: "not found" } });
  };

  const server: Server = createServer(handle);
  return new Promise<{
    server: Server;
    origin: string;
    received: typeof received;
    hold(): void;
    releaseRefreshes(): void;
  }>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        server,
        origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        received,
        hold: () => {
          isHolding = true;
        },
        releaseRefreshes: () => {
          isHolding = false;
          const pending = heldRefreshes;
          heldRefreshes = [];
          for (const answer of pending) answer();
        },
      });
    });
  });
}

let app: Awaited<ReturnType<typeof startFakeApp>>;

/** Node's fetch keeps no cookies: send the one a browser would hold. */
const withCookie =
  (cookie: string): typeof fetch =>
  (input, init) =>
    fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), cookie } });

const waitFor = async (condition: () => boolean) => {
  for (let i = 0; i < 200 && !condition(); i += 1) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(condition()).toBe(true);
};

beforeAll(async () => {
  app = await startFakeApp();
});
afterAll(() => new Promise<void>((resolve) => app.server.close(() => resolve())));
beforeEach(() => {
  app.received.length = 0;
  app.releaseRefreshes();
});

describe("refresh", () => {
  it("sends one request for five concurrent calls and gives every caller its answer", async () => {
    const sent: string[] = [];
    const fetchWithCookie = withCookie("wl_refresh=valid");
    const countingFetch: typeof fetch = (input, init) => {
      sent.push(String(input));
      return fetchWithCookie(input, init);
    };
    const client = createSessionClient({ endpoint: app.origin, fetch: countingFetch, locks: null });
    app.hold();
    const calls = Array.from({ length: 5 }, () => client.refresh());
    await waitFor(() => app.received.length === 1);
    // The five calls were made before the first request reached the server: a second
    // request, had they sent one, has been handed to fetch by now.
    expect(sent).toHaveLength(1);
    app.releaseRefreshes();
    const sessions = await Promise.all(calls);

    expect(app.received).toHaveLength(1);
    expect(app.received[0]).toMatchObject({ method: "POST", path: "/api/auth/refresh" });
    const first = sessions[0];
    expect(first).toMatchObject({ expiresIn: 900, user: USER });
    for (const session of sessions) expect(session).toBe(first);
  });

  it("sends a new request once the previous one has finished", async () => {
    const client = createSessionClient({ endpoint: app.origin, fetch: withCookie("wl_refresh=valid"), locks: null });
    const a = await client.refresh();
    const b = await client.refresh();
    expect(app.received).toHaveLength(2);
    expect(a?.accessToken).not.toBe(b?.accessToken);
  });

  it("answers null when the cookie gives no session", async () => {
    const client = createSessionClient({ endpoint: app.origin, fetch: withCookie("wl_refresh=stale"), locks: null });
    await expect(client.refresh()).resolves.toBeNull();
    // A failed call does not stick: the next call asks again.
    await expect(client.refresh()).resolves.toBeNull();
    expect(app.received).toHaveLength(2);
  });

  it("runs each refresh and logout under the shared Web Lock, one at a time", async () => {
    const names: string[] = [];
    let held = Promise.resolve();
    let active = 0;
    let maxActive = 0;
    // A one-holder lock, as navigator.locks grants across the tabs of an origin.
    const locks: RefreshLocks = {
      request(name, callback) {
        names.push(name);
        const run = held.then(async () => {
          active += 1;
          maxActive = Math.max(maxActive, active);
          try {
            return await callback();
          } finally {
            active -= 1;
          }
        });
        held = run.then(
          () => undefined,
          () => undefined,
        );
        return run;
      },
    };
    const tabA = createSessionClient({ endpoint: app.origin, fetch: withCookie("wl_refresh=valid"), locks });
    const tabB = createSessionClient({ endpoint: app.origin, fetch: withCookie("wl_refresh=valid"), locks });
    await Promise.all([tabA.refresh(), tabA.refresh(), tabB.refresh(), tabB.logout()]);

    expect(names).toEqual([REFRESH_LOCK_NAME, REFRESH_LOCK_NAME, REFRESH_LOCK_NAME]);
    expect(maxActive).toBe(1);
    expect(app.received.map((r) => r.path)).toEqual(["/api/auth/refresh", "/api/auth/refresh", "/api/auth/logout"]);
  });

  it("uses navigator.locks when the platform has it", async () => {
    const names: string[] = [];
    const original = Object.getOwnPropertyDescriptor(globalThis, "navigator");
    Object.defineProperty(globalThis, "navigator", {
      configurable: true,
      value: {
        locks: {
          request: (name: string, callback: () => Promise<unknown>) => {
            names.push(name);
            return callback();
          },
        },
      },
    });
    try {
      const client = createSessionClient({ endpoint: app.origin, fetch: withCookie("wl_refresh=valid") });
      await client.refresh();
    } finally {
      if (original) Object.defineProperty(globalThis, "navigator", original);
      else delete (globalThis as { navigator?: unknown }).navigator;
    }
    expect(names).toEqual([REFRESH_LOCK_NAME]);
  });

  it("reports an unreachable server as network_error", async () => {
    const failing: typeof fetch = () => Promise.reject(new TypeError("fetch failed"));
    const client = createSessionClient({ endpoint: app.origin, fetch: failing, locks: null });
    await expect(client.refresh()).rejects.toMatchObject({ name: "SessionClientError", code: "network_error" });
  });
});

describe("fetchMe", () => {
  it("sends the access token as a Bearer header and returns the user", async () => {
    const client = createSessionClient({ endpoint: app.origin, locks: null });
    await expect(client.fetchMe("good")).resolves.toEqual(ME);
    expect(app.received[0]).toMatchObject({ method: "GET", path: "/api/me", authorization: "Bearer good" });
  });

  it("throws invalid_token with the status for a refused token", async () => {
    const client = createSessionClient({ endpoint: app.origin, locks: null });
    const error = await client.fetchMe("bad").catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SessionClientError);
    expect(error).toMatchObject({ code: "invalid_token", status: 401 });
  });
});

describe("logout", () => {
  it("posts to the logout endpoint", async () => {
    const client = createSessionClient({
      endpoint: `${app.origin}/`,
      fetch: withCookie("wl_refresh=valid"),
      locks: null,
    });
    await client.logout();
    expect(app.received).toEqual([
      expect.objectContaining({ method: "POST", path: "/api/auth/logout", cookie: "wl_refresh=valid" }),
    ]);
  });
});
