/**
 * State of one QR-login widget: a plain zustand store made per widget instance, never
 * a module-level one (two widgets on a page, or two requests rendering on one server,
 * must not share a login).
 *
 * - Every transition is a function of an input (the client's state events and errors,
 *   the socket going down and up, the clock, the user's buttons), so all of them are
 *   tested without React, a browser or a server.
 * - The store owns its login client (made by `deps.createClient`, one socket per widget)
 *   and runs its socket calls one after another: the client follows one session at a
 *   time, so a new `login:start` never overlaps a start or cancel still waiting for its ack.
 * - A session the widget gives up (Cancel, unmount, a start that finished after it was
 *   no longer wanted) is cancelled on the server rather than left open for its lifetime.
 * - An expired code is replaced automatically `maxAutoRestarts` times (default once)
 *   since the user last pressed a button; after that the user asks for a new one.
 * - Nothing leaves `signed-in`, and `onLogin` is called exactly once.
 * - A start answered `unavailable` (the server's Redis is away) is asked again after a
 *   pause while the widget shows `connecting`; a login the server forgot (Redis came back
 *   empty) arrives as `expired` and is replaced like an expired code.
 */
import { createStore } from "zustand/vanilla";
import type { StoreApi } from "zustand/vanilla";
import type { LoginClient } from "../../lib/client/login-client";
import type { LoginStateEvent, StartedSession } from "../../lib/protocol/login";
import { cancelQuietly, createClientSlot, toQrLoginError } from "./client-slot";
import type { QrLoginError, QrLoginResult } from "./client-slot";
import { describeError, describeReason } from "./messages";

export type { QrLoginError, QrLoginResult } from "./client-slot";

export type QrLoginStatus =
  | "connecting"
  | "waiting"
  | "scanned"
  | "signing-in"
  | "signed-in"
  | "denied"
  | "expired"
  | "cancelled"
  | "offline"
  | "error";

export interface QrLoginStoreDeps {
  /** Called when the store first needs a socket, and again after `dispose()`. */
  createClient: () => LoginClient;
  /** Read at each start, so the latest props apply to the next code. */
  getRequiredClaims?: () => readonly string[] | undefined;
  onLogin?: (result: QrLoginResult) => void;
  /** Called when the login is denied or fails. */
  onError?: (error: QrLoginError) => void;
  now?: () => number;
  /** Expired (or lost) codes replaced without asking; default 1. */
  maxAutoRestarts?: number;
}

export interface QrLoginState {
  status: QrLoginStatus;
  sessionId: string | undefined;
  /** The exact text the QR code encodes. */
  qr: string | undefined;
  matchCode: string | undefined;
  /** Epoch milliseconds, from the server's `expiresAt`. */
  expiresAt: number | undefined;
  /** The clock as of the last `tick`; the countdown is `expiresAt - now`. */
  now: number;
  /** For `denied` and `error`: the code and its human sentence. */
  error: QrLoginError | undefined;
  /** Sessions started by this widget so far. */
  attempts: number;
  /** Codes replaced automatically since the user last pressed a button. */
  autoRestarts: number;
  /** Where `offline` returns to once the socket is back; meaningless in other states. */
  statusBeforeOffline: "waiting" | "scanned" | undefined;
}

export interface QrLoginActions {
  /** Starts the first login; does nothing if this store already has one going (or is signed in). */
  start(): void;
  cancel(): void;
  /** A new code after `denied`, `expired`, `cancelled` or `error`. */
  restart(): void;
  handleState(event: LoginStateEvent): void;
  handleClientError(error: { code: string; message: string }): void;
  handleDisconnect(): void;
  handleReconnect(): void;
  tick(now: number): void;
  /**
   * Detaches from the client, cancels an open session and closes the socket. The store
   * may be started again afterwards (React StrictMode mounts, unmounts and mounts again).
   * Resolves once the socket is closed.
   */
  dispose(): Promise<void>;
}

export type QrLoginStoreState = QrLoginState & QrLoginActions;
export type QrLoginStore = StoreApi<QrLoginStoreState>;

const OPEN_STATUSES: ReadonlySet<QrLoginStatus> = new Set(["waiting", "scanned", "offline"]);
const RESTARTABLE_STATUSES: ReadonlySet<QrLoginStatus> = new Set(["denied", "expired", "cancelled", "error"]);
const CANCELLABLE_STATUSES: ReadonlySet<QrLoginStatus> = new Set(["connecting", "waiting", "scanned", "offline"]);
// Failures that a returning connection may cure, so the store tries again by itself.
const RETRY_ON_RECONNECT: ReadonlySet<string> = new Set(["timeout", "network_error", "unavailable"]);
// The server is up but its store is not (503 `unavailable`): asked again after this pause.
const UNAVAILABLE_RETRY_MS = 2_000;
// Resume refusals meaning the server no longer has the session (e.g. a restarted node without Redis).
const LOST_SESSION_CODES: ReadonlySet<string> = new Set(["session_not_found", "session_expired"]);

export function isOpenStatus(status: QrLoginStatus): boolean {
  return OPEN_STATUSES.has(status);
}

export function isRestartableStatus(status: QrLoginStatus): boolean {
  return RESTARTABLE_STATUSES.has(status);
}

export function isCancellableStatus(status: QrLoginStatus): boolean {
  return CANCELLABLE_STATUSES.has(status);
}

/** Milliseconds left on the current code, or undefined when there is none. */
export function selectRemainingMs(state: QrLoginState): number | undefined {
  return state.expiresAt === undefined ? undefined : Math.max(0, state.expiresAt - state.now);
}

export function createQrLoginStore(deps: QrLoginStoreDeps): QrLoginStore {
  const now = deps.now ?? Date.now;
  const maxAutoRestarts = deps.maxAutoRestarts ?? 1;

  // Bumped whenever the current intent changes; a late answer for an older run is not applied.
  let run = 0;

  const initialState = (): QrLoginState => ({
    status: "connecting",
    sessionId: undefined,
    qr: undefined,
    matchCode: undefined,
    expiresAt: undefined,
    now: now(),
    error: undefined,
    attempts: 0,
    autoRestarts: 0,
    statusBeforeOffline: undefined,
  });

  return createStore<QrLoginStoreState>()((set, get) => {
    // Not part of the rendered state: the live client and its bookkeeping.
    const slot = createClientSlot(deps.createClient, get);

    function fail(error: QrLoginError): void {
      set({ status: "error", error });
      deps.onError?.(error);
    }

    function deny(reason: string | undefined): void {
      const error = { code: reason ?? "denied", message: describeReason(reason) };
      set({ status: "denied", error });
      deps.onError?.(error);
    }

    function beginSession(): void {
      const active = slot.attach();
      const thisRun = ++run;
      set((state) => ({
        status: "connecting",
        sessionId: undefined,
        qr: undefined,
        matchCode: undefined,
        expiresAt: undefined,
        error: undefined,
        attempts: state.attempts + 1,
      }));
      slot.enqueue(() => startSession(active, thisRun));
    }

    async function startSession(active: LoginClient, thisRun: number): Promise<void> {
      let session: StartedSession;
      try {
        const requiredClaims = deps.getRequiredClaims?.();
        session = await active.start(requiredClaims?.length ? { requiredClaims: [...requiredClaims] } : {});
      } catch (error) {
        if (thisRun !== run) return;
        const failure = toQrLoginError(error);
        if (failure.code === "unavailable") {
          // Still "connecting" to the user: a code follows once the server's store answers again.
          setTimeout(() => {
            if (thisRun === run) beginSession();
          }, UNAVAILABLE_RETRY_MS);
          return;
        }
        fail(failure);
        return;
      }
      if (thisRun !== run) {
        // Cancelled or unmounted while the ack was on its way: nobody shows this code.
        await cancelQuietly(active);
        return;
      }
      set({
        status: "waiting",
        sessionId: session.sessionId,
        qr: session.qr,
        matchCode: session.matchCode,
        expiresAt: Date.parse(session.expiresAt),
        now: now(),
      });
    }

    /** An expired or lost code: replaced by itself while the budget lasts. */
    function replaceCode(otherwise: () => void): void {
      const { autoRestarts } = get();
      if (autoRestarts < maxAutoRestarts) {
        set({ autoRestarts: autoRestarts + 1 });
        beginSession();
      } else {
        otherwise();
      }
    }

    function redeem(): void {
      const thisRun = run;
      set({ status: "signing-in" });
      slot.redeem(
        () => thisRun === run,
        (result) => {
          set({ status: "signed-in" });
          deps.onLogin?.(result);
        },
        fail,
      );
    }

    return {
      ...initialState(),

      start() {
        if (slot.current() !== undefined || get().status === "signed-in") return;
        beginSession();
      },

      cancel() {
        const { status, sessionId } = get();
        if (!isCancellableStatus(status)) return;
        run++;
        set({ status: "cancelled", error: undefined });
        const active = slot.current();
        // Without a session the start still in flight cancels its own once acked (startSession).
        if (sessionId !== undefined && active !== undefined) slot.enqueue(() => cancelQuietly(active));
      },

      restart() {
        if (!isRestartableStatus(get().status)) return;
        set({ autoRestarts: 0 });
        beginSession();
      },

      handleState(event) {
        const { status, sessionId } = get();
        // Only an open session of ours moves: a user's Cancel or an ended state is final.
        if (event.sessionId !== sessionId || !isOpenStatus(status)) return;
        switch (event.state) {
          case "pending":
            set({ status: "waiting" });
            return;
          case "scanned":
            set({ status: "scanned" });
            return;
          case "approved":
            redeem();
            return;
          case "denied":
            deny(event.reason);
            return;
          case "cancelled":
            set({ status: "cancelled" });
            return;
          case "expired":
            // The server ends an approved session as expired when it could not store the user.
            if (event.reason === "internal_error") fail(toQrLoginError(event.reason));
            else replaceCode(() => set({ status: "expired" }));
            return;
          default:
            // `redeemed` by someone else or `suspended` (push login): not a login this widget can finish.
            fail({ code: "session_closed", message: describeError("session_closed", "This login has already ended.") });
        }
      },

      handleClientError(error) {
        if (error.code === "closed" || !isOpenStatus(get().status)) return;
        const failure = { code: error.code, message: describeError(error.code, error.message) };
        if (LOST_SESSION_CODES.has(error.code)) replaceCode(() => fail(failure));
        else fail(failure);
      },

      handleDisconnect() {
        const { status } = get();
        if (status !== "waiting" && status !== "scanned") return;
        set({ status: "offline", statusBeforeOffline: status });
      },

      handleReconnect() {
        const { status, statusBeforeOffline, error } = get();
        // The client resumes the session itself; anything that happened meanwhile follows as events.
        if (status === "offline") set({ status: statusBeforeOffline ?? "waiting", statusBeforeOffline: undefined });
        else if (status === "error" && error !== undefined && RETRY_ON_RECONNECT.has(error.code)) beginSession();
      },

      tick(time) {
        if (isOpenStatus(get().status)) set({ now: time });
      },

      dispose() {
        const { status, sessionId } = get();
        run++;
        const hasOpenSession = sessionId !== undefined && isOpenStatus(status);
        // A signed-in widget stays signed in; anything else starts over if mounted again.
        if (status !== "signed-in") set(initialState());
        return slot.release(async (released) => {
          if (hasOpenSession && released.socket.connected) await cancelQuietly(released);
        });
      },
    };
  });
}
