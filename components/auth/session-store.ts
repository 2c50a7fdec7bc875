/**
 * The signed-in state of one page, as a zustand store made per provider instance
 * (never module-global, so two providers or two requests never share a session).
 *
 * - The access token lives in this store's memory only: never localStorage or
 *   sessionStorage, so a script injected later cannot read it from storage. A reload
 *   gets a new one from the HttpOnly refresh cookie (`ensureSession`).
 * - Refreshes go through the session client, which keeps one in flight at a time
 *   and serializes them across tabs; a StrictMode double effect shares that request.
 * - An answer that arrives after a newer sign-in or sign-out is dropped
 *   (`generation`), so a slow refresh can never resurrect a signed-out session.
 */
import { createStore } from "zustand/vanilla";
import type { StoreApi } from "zustand/vanilla";
import type { PublicUser } from "../../lib/protocol/login";
import { SessionClientError } from "../../lib/client/session-client";
import type { MeUser, Session, SessionClient } from "../../lib/client/session-client";

export type SessionStatus = "unknown" | "checking" | "signed-in" | "signed-out" | "error";

export interface SessionState {
  status: SessionStatus;
  user: PublicUser | null;
  /** Memory only; see the module comment. */
  accessToken: string | null;
  /** Epoch milliseconds after which the access token is no longer used. */
  expiresAt: number | null;
  /** Why the last check failed when `status` is `error` (the server was unreachable...). */
  error: string | null;
  /** Takes the widget's `onLogin` result. */
  signIn(session: Session): void;
  /** The current session, refreshed through the cookie when there is no usable token; `null` when signed out. */
  ensureSession(): Promise<Session | null>;
  /** A token valid for at least a few more seconds, or `null` when signed out. */
  getAccessToken(): Promise<string | null>;
  /** `GET /api/me`, refreshing once if the token was refused; `null` when signed out. */
  fetchMe(): Promise<MeUser | null>;
  signOut(): Promise<void>;
  /** Drops the in-memory session without calling the server (another tab signed out). */
  forget(): void;
}

export type SessionStore = StoreApi<SessionState>;

// Refresh a little before the token's end, so a request sent now still arrives in time.
const EXPIRY_MARGIN_MS = 30_000;

const SIGNED_OUT = { status: "signed-out", user: null, accessToken: null, expiresAt: null, error: null } as const;

export function createSessionStore(client: SessionClient): SessionStore {
  let generation = 0;
  let meInFlight: Promise<MeUser | null> | undefined;

  return createStore<SessionState>()((set, get) => {
    function apply(session: Session): Session {
      set({
        status: "signed-in",
        user: session.user,
        accessToken: session.accessToken,
        expiresAt: Date.now() + session.expiresIn * 1000,
        error: null,
      });
      return session;
    }

    function currentSession(): Session | null {
      const { accessToken, expiresAt, user } = get();
      if (accessToken === null || expiresAt === null || user === null) return null;
      const remainingMs = expiresAt - Date.now();
      if (remainingMs <= EXPIRY_MARGIN_MS) return null;
      return { accessToken, user, expiresIn: Math.floor(remainingMs / 1000) };
    }

    async function refresh(): Promise<Session | null> {
      const started = generation;
      if (get().status !== "signed-in") set({ status: "checking", error: null });
      try {
        const session = await client.refresh();
        if (started !== generation) return currentSession();
        if (session === null) {
          set(SIGNED_OUT);
          return null;
        }
        return apply(session);
      } catch (error) {
        if (started !== generation) return currentSession();
        const message = error instanceof Error ? error.message : "The session could not be checked.";
        // A signed-in page stays signed in through a passing network failure.
        set(get().status === "signed-in" ? { error: message } : { status: "error", error: message });
        return null;
      }
    }

    async function loadMe(): Promise<MeUser | null> {
      const session = await get().ensureSession();
      if (session === null) return null;
      try {
        return await client.fetchMe(session.accessToken);
      } catch (error) {
        if (!(error instanceof SessionClientError) || error.status !== 401) throw error;
      }
      // The token was refused (a restarted server with a new key...): one fresh try.
      set({ accessToken: null, expiresAt: null });
      const renewed = await refresh();
      return renewed === null ? null : client.fetchMe(renewed.accessToken);
    }

    return {
      status: "unknown",
      user: null,
      accessToken: null,
      expiresAt: null,
      error: null,

      signIn(session) {
        generation += 1;
        apply(session);
      },

      async ensureSession() {
        // Signed out is known until this page signs in again: no request that can only fail.
        if (get().status === "signed-out") return null;
        return currentSession() ?? refresh();
      },

      async getAccessToken() {
        return (await get().ensureSession())?.accessToken ?? null;
      },

      fetchMe() {
        // One request for callers that ask at the same time (StrictMode runs effects twice).
        meInFlight ??= loadMe().finally(() => {
          meInFlight = undefined;
        });
        return meInFlight;
      },

      async signOut() {
        generation += 1;
        // The server first: if it cannot be reached the cookie still holds a session,
        // and the page must not claim otherwise.
        await client.logout();
        generation += 1;
        set(SIGNED_OUT);
      },

      forget() {
        generation += 1;
        set(SIGNED_OUT);
      },
    };
  });
}
