/**
 * The browser's session after login (docs/protocol.md section 1: refresh, logout, /api/me),
 * free of any framework.
 *
 * - The access token is the caller's to keep, in memory only; this client never
 *   stores it. The refresh token is an HttpOnly cookie the client never sees.
 * - The refresh cookie rotates on every use and presenting a rotated-out one revokes
 *   the whole family, so two refreshes must never be in flight at once: calls in this
 *   client share one request, and where the Web Locks API exists every refresh (and
 *   logout) of every tab of the origin runs under one named lock, so a second tab
 *   sends the cookie only after the first tab's rotation has replaced it.
 * - A refresh is never aborted once sent: the server may already have rotated the
 *   cookie, and the answer carrying the new one must be read.
 */
import { API_PATHS } from "../protocol/login";
import type { MeResponse, PublicUser, RedeemResponse } from "../protocol/login";

export const REFRESH_LOCK_NAME = "wallet-login-refresh";

export interface Session {
  accessToken: string;
  /** Seconds the access token lives from when it was issued. */
  expiresIn: number;
  user: PublicUser;
}

export type MeUser = MeResponse["user"];

/** The part of the Web Locks API this client needs. */
export interface RefreshLocks {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
}

export interface SessionClientOptions {
  /** Origin of the app, e.g. `https://login.example.com`; the page's own origin when left out. */
  endpoint?: string;
  fetch?: typeof fetch;
  /** Defaults to `navigator.locks` where it exists; `null` turns cross-tab locking off. */
  locks?: RefreshLocks | null;
}

export interface SessionClient {
  /** A new access token from the refresh cookie, or `null` when there is no valid session. */
  refresh(): Promise<Session | null>;
  /** Throws a SessionClientError with code `invalid_token` (status 401) for an unusable token. */
  fetchMe(accessToken: string): Promise<MeUser>;
  /** Ends the refresh family and clears the cookie. */
  logout(): Promise<void>;
}

/** `code` is a docs/protocol.md error code from the server, or `network_error` / `http_error`. */
export class SessionClientError extends Error {
  override readonly name = "SessionClientError";

  constructor(
    readonly code: string,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export function createSessionClient(options: SessionClientOptions = {}): SessionClient {
  const endpoint = (options.endpoint ?? "").replace(/\/+$/, "");
  let inFlight: Promise<Session | null> | undefined;

  function withLock<T>(task: () => Promise<T>): Promise<T> {
    const locks = options.locks === undefined ? readNavigatorLocks() : options.locks;
    return locks ? locks.request(REFRESH_LOCK_NAME, task) : task();
  }

  async function sendRefresh(): Promise<Session | null> {
    const response = await send(`${endpoint}${API_PATHS.refresh}`, { method: "POST", credentials: "include" });
    if (response.status === 401) return null;
    const body = (await readOk(response)) as RedeemResponse;
    return { accessToken: body.accessToken, expiresIn: body.expiresIn, user: body.user };
  }

  function send(url: string, init: RequestInit): Promise<Response> {
    // Called as a plain function: browsers reject fetch invoked as a method of another object.
    const doFetch = options.fetch ?? globalThis.fetch;
    return doFetch(url, init).catch((cause: unknown) => {
      throw new SessionClientError("network_error", `Could not reach ${endpoint || "the server"}.`, undefined, {
        cause,
      });
    });
  }

  return {
    refresh() {
      inFlight ??= withLock(sendRefresh).finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },

    async fetchMe(accessToken) {
      const response = await send(`${endpoint}${API_PATHS.me}`, {
        headers: { authorization: `Bearer ${accessToken}`, accept: "application/json" },
        credentials: "include",
      });
      return ((await readOk(response)) as MeResponse).user;
    },

    async logout() {
      // After any refresh of this tab, and under the same lock as every tab's refresh,
      // so no rotation lands after the family is revoked.
      await inFlight?.catch(() => undefined);
      await withLock(async () => {
        const response = await send(`${endpoint}${API_PATHS.logout}`, { method: "POST", credentials: "include" });
        if (!response.ok) await readOk(response);
      });
    },
  };
}

function readNavigatorLocks(): RefreshLocks | null {
  const nav = (globalThis as { navigator?: { locks?: RefreshLocks } }).navigator;
  return nav?.locks && typeof nav.locks.request === "function" ? nav.locks : null;
}

async function readOk(response: Response): Promise<unknown> {
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok) return body;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === "string") {
    throw new SessionClientError(error.code, String(error.message ?? error.code), response.status);
  }
  throw new SessionClientError("http_error", `The server answered ${response.status}.`, response.status);
}
