/**
 * The browser's side of QR login (docs/protocol.md section 1), free of any framework:
 * the React widget and the CLI demo both drive it.
 *
 * - The browserSecret stays in this client instance (never in storage or a URL):
 *   only the tab that started a login can follow, cancel or redeem it.
 * - After a reconnect the socket may land on another node, which knows nothing of
 *   it; the client resumes the session there by itself so `login:state` keeps
 *   arriving, and a state reached while it was offline comes from the resume's answer.
 * - States only move forward: a late or repeated answer never takes a session back
 *   or delivers the same state twice.
 * - A login the server has forgotten (its store came back empty: the resume answers
 *   `session_not_found`) ends here as `expired` with that reason, so no caller waits on it
 *   forever. A resume answered `unavailable` or not at all is tried again after a pause
 *   while the connection lasts, and again on the next reconnect.
 * - A server-side disconnect (`io server disconnect`) during an open login is followed by a
 *   reconnect of our own, and so is a connection the server refused as `unavailable`
 *   (./keep-connecting.ts): socket.io-client reconnects by itself only after a lost transport.
 */
import { openSocket } from "./open-socket";
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";
import { API_PATHS } from "../protocol/login";
import { keepConnecting } from "./keep-connecting";
import type {
  ClientToServerEvents,
  LoginState,
  LoginStateEvent,
  RedeemResponse,
  ServerToClientEvents,
  SessionStatus,
  StartedSession,
} from "../protocol/login";
import type { PushClientToServerEvents, StartedPushSession } from "../protocol/push";

/** The page's events: section 1's, and `login:push` (section 5.3), which starts the same kind of session. */
type PageEvents = ClientToServerEvents & Pick<PushClientToServerEvents, "login:push">;
export type LoginSocket = Socket<ServerToClientEvents, PageEvents>;

export interface LoginClientOptions {
  /** Origin of the app, e.g. `https://login.example.com`; the page's own origin when left out. */
  endpoint?: string;
  /** A socket to use instead of opening one (tests); the client then leaves it open on close(). */
  socket?: LoginSocket;
  /** Passed to socket.io-client's `io()` over the defaults (path `/socket.io`, websocket only). */
  io?: Partial<ManagerOptions & SocketOptions>;
  ackTimeoutMs?: number;
  fetch?: typeof fetch;
}

export interface WaitForStateOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface LoginClient {
  /** The underlying connection, e.g. to reuse it for channels (docs/protocol.md section 2). */
  readonly socket: LoginSocket;
  start(options?: { requiredClaims?: string[] }): Promise<StartedSession>;
  /** A push login to the devices paired with `address` (docs/protocol.md section 5.3) instead of a QR. */
  push(address: string): Promise<StartedPushSession>;
  resume(): Promise<SessionStatus>;
  /**
   * The polling fallback over HTTP (`GET /api/login/sessions/{id}`) while the socket is down:
   * its answer is applied as a `login:state` would be (a code from it can be redeemed).
   */
  poll(): Promise<SessionStatus>;
  cancel(): Promise<void>;
  onState(listener: (event: LoginStateEvent) => void): () => void;
  /** Failures the client ran into on its own, such as a resume after reconnect that was refused. */
  onError(listener: (error: LoginClientError) => void): () => void;
  /**
   * Resolves with the first event whose state is in `states` (at once if the session
   * is already there); rejects if the session ends in another state, on timeout,
   * abort or close().
   */
  waitForState(states: readonly LoginState[], options: WaitForStateOptions): Promise<LoginStateEvent>;
  /** Trades the one-time code of the `approved` event for tokens and the refresh cookie. */
  redeem(): Promise<RedeemResponse>;
  getSession(): StartedSession | StartedPushSession | undefined;
  getState(): LoginStateEvent | undefined;
  close(): void;
}

/**
 * `code` is a docs/protocol.md error code from the server, or a local one: `timeout`,
 * `no_session`, `not_approved`, `aborted`, `closed`, `network_error`, `http_error`.
 * When a session ended in a state the caller did not wait for, `event` is that
 * state's event and `code` its reason (or `session_expired` / `session_closed`).
 */
export class LoginClientError extends Error {
  override readonly name = "LoginClientError";

  constructor(
    readonly code: string,
    message: string,
    readonly details: { status?: number; event?: LoginStateEvent; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }

  get status(): number | undefined {
    return this.details.status;
  }

  get event(): LoginStateEvent | undefined {
    return this.details.event;
  }
}

const DEFAULT_ACK_TIMEOUT_MS = 10_000;
/** Pauses before a resume is tried again (the last one repeats). */
const RESUME_RETRY_MS = [500, 1_000, 2_000, 5_000];
/** Codes after which a resume is worth trying again. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set(["timeout", "unavailable", "internal_error"]);

// Forward-only order; every end shares the last rank, so one end never replaces another.
const STATE_RANK: Record<LoginState, number> = {
  pending: 0,
  scanned: 1,
  fetched: 1,
  approved: 2,
  redeemed: 3,
  denied: 3,
  cancelled: 3,
  expired: 3,
  suspended: 3,
};

function isEnded(state: LoginState): boolean {
  return STATE_RANK[state] === 3;
}

type AckOf<E extends keyof PageEvents> = Parameters<Parameters<PageEvents[E]>[1]>[0];
type Acked<E extends keyof PageEvents> = Extract<AckOf<E>, { ok: true }>;

export function createLoginClient(options: LoginClientOptions = {}): LoginClient {
  const { endpoint, ownsSocket, socket } = openSocket<LoginSocket>(options);
  const ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;

  const stateListeners = new Set<(event: LoginStateEvent) => void>();
  const errorListeners = new Set<(error: LoginClientError) => void>();
  let session: StartedSession | StartedPushSession | undefined;
  let current: LoginStateEvent | undefined;
  let hasConnected = socket.connected;
  let isClosed = false;
  let resumeRetry: ReturnType<typeof setTimeout> | undefined;
  let resumeFailures = 0;

  function notify<T>(listeners: Set<(value: T) => void>, value: T): void {
    for (const listener of [...listeners]) {
      try {
        listener(value);
      } catch (error) {
        // One faulty listener must not starve the others; rethrown so it is still seen.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  function applyState(event: LoginStateEvent): void {
    if (session === undefined || event.sessionId !== session.sessionId) return;
    if (current !== undefined && STATE_RANK[event.state] <= STATE_RANK[current.state]) return;
    current = event;
    notify(stateListeners, event);
  }

  function requireSession(): StartedSession | StartedPushSession {
    if (isClosed) throw new LoginClientError("closed", "The login client is closed.");
    if (session === undefined) throw new LoginClientError("no_session", "No login has been started.");
    return session;
  }

  async function emitWithAck<E extends keyof PageEvents>(
    event: E,
    payload: Parameters<PageEvents[E]>[0],
  ): Promise<Acked<E>> {
    // socket.io's types lose the ack's type under timeout(); the event map states it.
    const timed = socket.timeout(ackTimeoutMs) as unknown as {
      emitWithAck(event: E, payload: unknown): Promise<AckOf<E>>;
    };
    let ack: AckOf<E>;
    try {
      ack = await timed.emitWithAck(event, payload);
    } catch (cause) {
      throw new LoginClientError("timeout", `No answer to ${event} within ${ackTimeoutMs} ms.`, { cause });
    }
    if (!ack.ok) throw new LoginClientError(ack.error.code, ack.error.message);
    return ack as Acked<E>;
  }

  async function resume(): Promise<SessionStatus> {
    const { sessionId, browserSecret } = requireSession();
    const { session: status } = await emitWithAck("login:resume", { sessionId, browserSecret });
    applyState(toStateEvent(status));
    return status;
  }

  async function begin<E extends "login:start" | "login:push">(event: E, payload: Parameters<PageEvents[E]>[0]) {
    if (isClosed) throw new LoginClientError("closed", "The login client is closed.");
    const { session: started } = await emitWithAck(event, payload);
    session = started;
    current = { sessionId: started.sessionId, state: started.state };
    return started as Acked<E>["session"];
  }

  const isOpen = () => !isClosed && session !== undefined && current !== undefined && !isEnded(current.state);

  /** Resumes after a reconnect; see the rules above for what a failure leads to. */
  function resumeAfterReconnect(): void {
    clearTimeout(resumeRetry);
    resumeRetry = undefined;
    if (!isOpen() || !socket.connected) return;
    const forSession = session!.sessionId;
    resume().then(
      () => {
        resumeFailures = 0;
      },
      (error: unknown) => {
        if (!isOpen() || session?.sessionId !== forSession) return;
        const code = error instanceof LoginClientError ? error.code : "internal_error";
        if (code === "session_not_found") {
          applyState({ sessionId: forSession, state: "expired", reason: "session_not_found" });
        } else if (RETRYABLE_CODES.has(code)) {
          const delay = RESUME_RETRY_MS[Math.min(resumeFailures++, RESUME_RETRY_MS.length - 1)]!;
          resumeRetry = setTimeout(resumeAfterReconnect, delay);
        } else if (error instanceof LoginClientError) {
          notify(errorListeners, error);
        }
      },
    );
  }

  function onConnect(): void {
    const isReconnect = hasConnected;
    hasConnected = true;
    if (isReconnect) resumeAfterReconnect();
  }

  function onDisconnect(reason: string): void {
    clearTimeout(resumeRetry);
    resumeRetry = undefined;
    // socket.io-client stays offline after a server-side disconnect; an open login needs its end.
    if (reason === "io server disconnect" && isOpen()) socket.connect();
  }

  function onStateEvent(event: LoginStateEvent): void {
    applyState(event);
  }

  socket.on("connect", onConnect);
  socket.on("disconnect", onDisconnect);
  const stopConnecting = keepConnecting(socket as unknown as Parameters<typeof keepConnecting>[0], () => !isClosed);
  socket.on("login:state", onStateEvent);

  return {
    socket,

    start(startOptions = {}) {
      const payload = startOptions.requiredClaims ? { requiredClaims: startOptions.requiredClaims } : {};
      return begin("login:start", payload);
    },

    push: (address) => begin("login:push", { address }),

    resume,

    async poll() {
      const { sessionId, browserSecret } = requireSession();
      const status = await pollSession(
        endpoint,
        sessionId,
        browserSecret,
        options.fetch ? { fetch: options.fetch } : {},
      );
      applyState(toStateEvent(status));
      return status;
    },

    async cancel() {
      const { sessionId, browserSecret } = requireSession();
      await emitWithAck("login:cancel", { sessionId, browserSecret });
      applyState({ sessionId, state: "cancelled" });
    },

    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },

    onError(listener) {
      errorListeners.add(listener);
      return () => errorListeners.delete(listener);
    },

    waitForState(states, { timeoutMs, signal }) {
      return new Promise<LoginStateEvent>((resolve, reject) => {
        let sessionId: string;
        try {
          sessionId = requireSession().sessionId;
        } catch (error) {
          reject(error);
          return;
        }
        const settle = (event: LoginStateEvent): boolean => {
          if (states.includes(event.state)) {
            resolve(event);
            return true;
          }
          if (isEnded(event.state)) {
            reject(toEndedError(event));
            return true;
          }
          return false;
        };
        if (current !== undefined && settle(current)) return;

        const fail = (error: LoginClientError) => {
          cleanup();
          reject(error);
        };
        const onEvent = (event: LoginStateEvent) => {
          if (event.sessionId === sessionId && settle(event)) cleanup();
        };
        const onAbort = () => fail(new LoginClientError("aborted", "Stopped waiting for the login."));
        const timer = setTimeout(
          () => fail(new LoginClientError("timeout", `The login did not reach ${states.join(" or ")} in time.`)),
          timeoutMs,
        );
        const cleanup = () => {
          clearTimeout(timer);
          stateListeners.delete(onEvent);
          errorListeners.delete(fail);
          signal?.removeEventListener("abort", onAbort);
        };
        if (signal?.aborted) {
          onAbort();
          return;
        }
        signal?.addEventListener("abort", onAbort, { once: true });
        stateListeners.add(onEvent);
        errorListeners.add(fail);
      });
    },

    async redeem() {
      const { sessionId, browserSecret } = requireSession();
      const code = current?.state === "approved" ? current.code : undefined;
      if (code === undefined) throw new LoginClientError("not_approved", "The login has not been approved yet.");
      const response = (await requestJson(
        `${endpoint}${API_PATHS.redeem}`,
        {
          method: "POST",
          credentials: "include",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ sessionId, browserSecret, code }),
        },
        options.fetch,
      )) as RedeemResponse;
      applyState({ sessionId, state: "redeemed" });
      return response;
    },

    getSession: () => session,
    getState: () => current,

    close() {
      if (isClosed) return;
      isClosed = true;
      socket.off("connect", onConnect);
      socket.off("disconnect", onDisconnect);
      socket.off("login:state", onStateEvent);
      clearTimeout(resumeRetry);
      stopConnecting();
      notify(errorListeners, new LoginClientError("closed", "The login client was closed."));
      stateListeners.clear();
      errorListeners.clear();
      if (ownsSocket) socket.disconnect();
    },
  };
}

/** The polling fallback for clients without websockets: `GET /api/login/sessions/{id}`. */
export async function pollSession(
  endpoint: string,
  sessionId: string,
  browserSecret: string,
  options: { fetch?: typeof fetch; signal?: AbortSignal } = {},
): Promise<SessionStatus> {
  const url = `${endpoint.replace(/\/+$/, "")}${API_PATHS.loginSession(sessionId)}`;
  const init: RequestInit = { headers: { accept: "application/json", "x-browser-secret": browserSecret } };
  if (options.signal) init.signal = options.signal;
  return (await requestJson(url, init, options.fetch)) as SessionStatus;
}

function toStateEvent(status: SessionStatus): LoginStateEvent {
  const event: LoginStateEvent = { sessionId: status.sessionId, state: status.state };
  if (status.reason !== undefined) event.reason = status.reason;
  if (status.code !== undefined) event.code = status.code;
  return event;
}

function toEndedError(event: LoginStateEvent): LoginClientError {
  const code = event.reason ?? (event.state === "expired" ? "session_expired" : "session_closed");
  return new LoginClientError(code, `The login ended as ${event.state}.`, { event });
}

async function requestJson(url: string, init: RequestInit, fetchImpl?: typeof fetch): Promise<unknown> {
  // Called as a plain function: browsers reject fetch invoked as a method of another object.
  const doFetch = fetchImpl ?? globalThis.fetch;
  let response: Response;
  try {
    response = await doFetch(url, init);
  } catch (cause) {
    if (init.signal?.aborted) throw cause;
    throw new LoginClientError("network_error", "Could not reach the login server.", { cause });
  }
  const body: unknown = await response.json().catch(() => undefined);
  if (response.ok) return body;
  const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
  if (typeof error?.code === "string") {
    const message = typeof error.message === "string" ? error.message : error.code;
    throw new LoginClientError(error.code, message, { status: response.status });
  }
  throw new LoginClientError("http_error", `The server answered ${response.status}.`, { status: response.status });
}
