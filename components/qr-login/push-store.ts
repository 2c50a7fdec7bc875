/**
 * State of the widget's push mode, "Send to my phone" (docs/protocol.md section 5.3): a plain
 * zustand store per widget instance, like the QR one (./store.ts), whose login client it shares
 * the handling of (./client-slot.ts).
 *
 * - `idle` until the person sends to an address (typed, or the one this browser remembers);
 *   then `sending` (the `login:push` ack), `pending` with the two-digit number to type on the
 *   phone, `fetched` once the phone opened it, `signing-in` (redeem), `signed-in`.
 * - Ends: `denied` (declined, "This wasn't me", a wrong number), `cancelled` (the Cancel button),
 *   `expired`, `suspended` (a newer push for the same address took its place), `error` (a
 *   refused push such as `rate_limited`, or a failed redeem). None is replaced by itself: a new
 *   push rings the phone again, so only the person sends one.
 * - While the socket is down the session is followed over HTTP instead (the polling fallback,
 *   `GET /api/login/sessions/{id}`), every `pollIntervalMs`; the login client resumes it on the
 *   socket once it is back. An approval seen by a poll is redeemed like one pushed.
 * - A session the widget gives up (Cancel, unmount) is cancelled on the server, which tells the phone.
 */
import { createStore } from "zustand/vanilla";
import type { StoreApi } from "zustand/vanilla";
import type { LoginClient } from "../../lib/client/login-client";
import type { LoginStateEvent } from "../../lib/protocol/login";
import type { StartedPushSession } from "../../lib/protocol/push";
import { cancelQuietly, createClientSlot, toQrLoginError } from "./client-slot";
import type { QrLoginError, QrLoginResult } from "./client-slot";
import { describeError, describeReason } from "./messages";

export type PushLoginStatus =
  | "idle"
  | "sending"
  | "pending"
  | "fetched"
  | "signing-in"
  | "signed-in"
  | "denied"
  | "cancelled"
  | "expired"
  | "suspended"
  | "error";

export interface PushLoginStoreDeps {
  /** Called when the store first needs a socket, and again after `dispose()`. */
  createClient: () => LoginClient;
  onLogin?: (result: QrLoginResult) => void;
  /** Called when the login is denied, ends other than signed in, or fails. */
  onError?: (error: QrLoginError) => void;
  now?: () => number;
  /** Pause between polls while the socket is down; default 3 s. */
  pollIntervalMs?: number;
}

export interface PushLoginState {
  status: PushLoginStatus;
  /** The address the push was (or is being) sent to. */
  address: string | undefined;
  sessionId: string | undefined;
  /** The two digits the person types on the phone. */
  matchCode: string | undefined;
  /** Epoch milliseconds, from the server's `expiresAt`. */
  expiresAt: number | undefined;
  now: number;
  /** For `denied`, `error`, and an address refused in `idle`: the code and its human sentence. */
  error: QrLoginError | undefined;
  /** The socket is down while a session is open: it is followed by polling meanwhile. */
  offline: boolean;
}

export interface PushLoginActions {
  /** Sends a push to `address` (from `idle` or any end); an address that is not one stays `idle` with an error. */
  send(address: string): void;
  cancel(): void;
  /** Back to `idle` from an end, to send again or to another address. */
  reset(): void;
  handleState(event: LoginStateEvent): void;
  handleClientError(error: { code: string; message: string }): void;
  handleDisconnect(): void;
  handleReconnect(): void;
  tick(now: number): void;
  /** Detaches from the client, cancels an open session and closes the socket; resolves once closed. */
  dispose(): Promise<void>;
}

export type PushLoginStoreState = PushLoginState & PushLoginActions;
export type PushLoginStore = StoreApi<PushLoginStoreState>;

const OPEN: ReadonlySet<PushLoginStatus> = new Set(["pending", "fetched"]);
const CANCELLABLE: ReadonlySet<PushLoginStatus> = new Set(["sending", "pending", "fetched"]);
const ENDS: ReadonlySet<PushLoginStatus> = new Set(["denied", "cancelled", "expired", "suspended", "error"]);
const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const DEFAULT_POLL_MS = 3_000;
// The server is up but its store is not (503 `unavailable`): asked again after this pause.
const UNAVAILABLE_RETRY_MS = 2_000;
// Poll failures that say nothing about the session; the next poll may get through.
const TRANSIENT: ReadonlySet<string> = new Set(["network_error", "http_error", "unavailable", "internal_error"]);

// Worded for the person at the desktop; the rest come from ./messages.ts via toQrLoginError.
const PUSH_REASONS: Record<string, string> = {
  user_denied: "The sign-in was declined on your phone.",
  not_me: "Your phone answered “This wasn't me”: no more requests go to it for a while.",
  wrong_match_code: "The wrong number was typed on the phone.",
  rate_limited: "Too many sign-in requests for this address. Wait a few minutes, or use the QR code.",
};

/** Open means a session is waiting for the phone: the countdown runs and Cancel applies. */
export function isOpenPushStatus(status: PushLoginStatus): boolean {
  return OPEN.has(status);
}

export function isCancellablePushStatus(status: PushLoginStatus): boolean {
  return CANCELLABLE.has(status);
}

export function isEndedPushStatus(status: PushLoginStatus): boolean {
  return ENDS.has(status);
}

/** `0x1234…cdef`: enough of an address to recognise it. */
export function shortAddress(address: string): string {
  return `${address.slice(0, 6)}…${address.slice(-4)}`;
}

/** A push-specific sentence for `code`, else `fallback` (a denial's reason by default). */
function toPushError(code: string, fallback?: QrLoginError): QrLoginError {
  const message = Object.hasOwn(PUSH_REASONS, code) ? PUSH_REASONS[code] : undefined;
  return message !== undefined ? { code, message } : (fallback ?? { code, message: describeReason(code) });
}

export function createPushLoginStore(deps: PushLoginStoreDeps): PushLoginStore {
  const now = deps.now ?? Date.now;
  const pollIntervalMs = deps.pollIntervalMs ?? DEFAULT_POLL_MS;
  // Bumped whenever the current intent changes; a late answer for an older run is not applied.
  let run = 0;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;

  const initialState = (): PushLoginState => ({
    status: "idle",
    address: undefined,
    sessionId: undefined,
    matchCode: undefined,
    expiresAt: undefined,
    now: now(),
    error: undefined,
    offline: false,
  });

  return createStore<PushLoginStoreState>()((set, get) => {
    const slot = createClientSlot(deps.createClient, get);

    function end(status: PushLoginStatus, error?: QrLoginError): void {
      stopPolling();
      set({ status, error, offline: false });
      if (error !== undefined) deps.onError?.(error);
    }

    function stopPolling(): void {
      clearTimeout(pollTimer);
      pollTimer = undefined;
    }

    /** One poll after the pause, then the next, while the socket stays down and the session open. */
    function schedulePoll(): void {
      stopPolling();
      const thisRun = run;
      pollTimer = setTimeout(() => {
        const active = slot.current();
        if (thisRun !== run || active === undefined || !get().offline || !isOpenPushStatus(get().status)) return;
        // The answer arrives through the client's state listeners (handleState).
        active.poll().then(
          () => {
            if (thisRun === run && get().offline) schedulePoll();
          },
          (error: unknown) => {
            if (thisRun !== run) return;
            const failure = toQrLoginError(error);
            if (failure.code === "session_not_found") end("expired", undefined);
            else if (TRANSIENT.has(failure.code)) schedulePoll();
            else end("error", failure);
          },
        );
      }, pollIntervalMs);
    }

    async function push(active: LoginClient, address: string, thisRun: number): Promise<void> {
      let session: StartedPushSession;
      try {
        session = await active.push(address);
      } catch (error) {
        if (thisRun !== run) return;
        const failure = toQrLoginError(error);
        if (failure.code === "unavailable") {
          // Still "sending" to the person: asked again once the server's store answers.
          setTimeout(() => {
            if (thisRun === run) slot.enqueue(() => push(active, address, thisRun));
          }, UNAVAILABLE_RETRY_MS);
          return;
        }
        end("error", toPushError(failure.code, failure));
        return;
      }
      if (thisRun !== run) {
        // Cancelled or unmounted while the ack was on its way: the phone is told it ended.
        await cancelQuietly(active);
        return;
      }
      set({
        status: "pending",
        sessionId: session.sessionId,
        matchCode: session.matchCode,
        expiresAt: Date.parse(session.expiresAt),
        now: now(),
        offline: !active.socket.connected,
      });
      if (!active.socket.connected) schedulePoll();
    }

    return {
      ...initialState(),

      send(input) {
        const { status } = get();
        if (status !== "idle" && !isEndedPushStatus(status)) return;
        const address = input.trim();
        if (!ADDRESS.test(address)) {
          set({
            status: "idle",
            error: { code: "invalid_address", message: "Enter a wallet address: 0x and 40 hexadecimal digits." },
          });
          return;
        }
        const active = slot.attach();
        const thisRun = ++run;
        set({
          status: "sending",
          address,
          sessionId: undefined,
          matchCode: undefined,
          expiresAt: undefined,
          error: undefined,
          offline: false,
        });
        slot.enqueue(() => push(active, address, thisRun));
      },

      cancel() {
        const { status, sessionId } = get();
        if (!isCancellablePushStatus(status)) return;
        run++;
        end("cancelled");
        const active = slot.current();
        // Without a session the push still in flight cancels its own once acked (push above).
        if (sessionId !== undefined && active !== undefined) slot.enqueue(() => cancelQuietly(active));
      },

      reset() {
        if (isEndedPushStatus(get().status)) set({ ...initialState(), address: get().address });
      },

      handleState(event) {
        const { status, sessionId } = get();
        // Only an open session of ours moves: a Cancel or an end is final.
        if (event.sessionId !== sessionId || !isOpenPushStatus(status)) return;
        switch (event.state) {
          case "pending":
            return;
          case "fetched":
            set({ status: "fetched" });
            return;
          case "approved": {
            stopPolling();
            const thisRun = run;
            set({ status: "signing-in", offline: false });
            slot.redeem(
              () => thisRun === run,
              (result) => {
                set({ status: "signed-in" });
                deps.onLogin?.(result);
              },
              (error) => end("error", error),
            );
            return;
          }
          case "denied":
            end("denied", toPushError(event.reason ?? "user_denied"));
            return;
          case "cancelled":
            end("cancelled");
            return;
          case "expired":
            if (event.reason === "internal_error") end("error", toQrLoginError(event.reason));
            else end("expired");
            return;
          case "suspended":
            end("suspended");
            return;
          default:
            // `scanned` cannot happen to a push; `redeemed` by someone else: not ours to finish.
            end("error", toQrLoginError("session_closed"));
        }
      },

      handleClientError(error) {
        if (error.code === "closed" || !isOpenPushStatus(get().status)) return;
        if (error.code === "session_not_found" || error.code === "session_expired") end("expired");
        else end("error", { code: error.code, message: describeError(error.code, error.message) });
      },

      handleDisconnect() {
        if (!isOpenPushStatus(get().status)) return;
        set({ offline: true });
        schedulePoll();
      },

      handleReconnect() {
        // The client resumes the session on the socket itself; anything missed follows as events.
        stopPolling();
        if (get().offline) set({ offline: false });
      },

      tick(time) {
        if (isOpenPushStatus(get().status)) set({ now: time });
      },

      dispose() {
        const { status, sessionId } = get();
        run++;
        stopPolling();
        const hasOpenSession = sessionId !== undefined && isOpenPushStatus(status);
        if (status !== "signed-in") set(initialState());
        return slot.release(async (released) => {
          if (hasOpenSession && released.socket.connected) await cancelQuietly(released);
        });
      },
    };
  });
}
