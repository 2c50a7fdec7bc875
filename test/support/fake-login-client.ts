/**
 * A stand-in for lib/client/login-client's LoginClient (which has its own tests against a real
 * Socket.IO server), for the widget's store tests: it records calls, and the test decides every
 * answer and event. A "qr" client answers `start` (at once unless `holdStarts` is set;
 * `startFailures` makes the next starts fail) and refuses `push` and `poll`; a "push" client
 * answers `push` (`pushFailures`) and `poll` (`pollAnswers`) and refuses `start`.
 */
import { vi, type Mock } from "vitest";
import { LoginClientError } from "../../lib/client/login-client";
import type { LoginClient, LoginSocket } from "../../lib/client/login-client";
import { ERROR_MESSAGES } from "../../lib/protocol/errors";
import type {
  LoginState,
  LoginStateEvent,
  RedeemResponse,
  SessionStatus,
  StartedSession,
} from "../../lib/protocol/login";
import type { StartedPushSession } from "../../lib/protocol/push";

export const T0 = Date.parse("2030-01-01T00:00:00Z");
export const TTL_MS = 120_000;
export const ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266";
export const USER = { id: "u1", address: ADDRESS, claims: {} };
export const REDEEMED: RedeemResponse = { accessToken: "token-1", tokenType: "Bearer", expiresIn: 900, user: USER };

/** A failure as the real client reports it: the server's code with the server's text. */
export function clientError(code: string): LoginClientError {
  const message = Object.hasOwn(ERROR_MESSAGES, code)
    ? ERROR_MESSAGES[code as keyof typeof ERROR_MESSAGES]
    : `local ${code}`;
  return new LoginClientError(code, message);
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function defer<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Lets queued promise chains (the store's socket queue, redeem) run to their end. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
}

type Mode = "qr" | "push";
type SessionOf<M extends Mode> = M extends "qr" ? StartedSession : StartedPushSession;

export function createFakeClient<M extends Mode>(mode: M) {
  const stateListeners = new Set<(event: LoginStateEvent) => void>();
  const errorListeners = new Set<(error: LoginClientError) => void>();
  const socketListeners = new Map<string, Set<() => void>>();
  let session: SessionOf<M> | undefined;
  let current: LoginStateEvent | undefined;
  let nextId = 1;

  const fake = {
    holdStarts: false,
    heldStarts: [] as Deferred<void>[],
    startFailures: [] as string[],
    pushFailures: [] as string[],
    /** What the next polls answer: a state, or an error code to throw. */
    pollAnswers: [] as Array<{ state: LoginState; code?: string; reason?: string } | { error: string }>,
    redeemResult: undefined as Deferred<RedeemResponse> | undefined,
    calls: { start: [] as unknown[], push: [] as string[], cancel: [] as string[], poll: 0, redeem: 0, close: 0 },
    isConnected: true,

    emit(state: LoginState, extra: Partial<LoginStateEvent> = {}) {
      if (session === undefined) throw new Error("no session to emit for");
      const event = { sessionId: session.sessionId, state, ...extra };
      current = event;
      for (const listener of [...stateListeners]) listener(event);
    },
    emitError(code: string) {
      for (const listener of [...errorListeners]) listener(clientError(code));
    },
    disconnect() {
      fake.isConnected = false;
      for (const listener of [...(socketListeners.get("disconnect") ?? [])]) listener();
    },
    reconnect() {
      fake.isConnected = true;
      for (const listener of [...(socketListeners.get("connect") ?? [])]) listener();
    },
    listenerCount: () =>
      stateListeners.size + errorListeners.size + [...socketListeners.values()].reduce((n, set) => n + set.size, 0),
    get session() {
      return session;
    },
  };

  /** A new pending session (`extra` for what only a QR session has). */
  function begin(extra: (id: string) => object) {
    const id = `session-${nextId++}`;
    session = {
      sessionId: id,
      ...extra(id),
      state: "pending",
      expiresAt: new Date(T0 + TTL_MS).toISOString(),
      matchCode: String(40 + nextId),
      browserSecret: "secret",
    } as SessionOf<M>;
    current = { sessionId: id, state: "pending" };
    return session;
  }

  const socket = {
    get connected() {
      return fake.isConnected;
    },
    on(event: string, listener: () => void) {
      const set = socketListeners.get(event) ?? new Set();
      set.add(listener);
      socketListeners.set(event, set);
      return socket;
    },
    off(event: string, listener: () => void) {
      socketListeners.get(event)?.delete(listener);
      return socket;
    },
  };

  const client: LoginClient = {
    socket: socket as unknown as LoginSocket,
    async start(options) {
      if (mode === "push") throw new Error("push mode never starts a QR login");
      fake.calls.start.push(options);
      if (fake.holdStarts) {
        const held = defer<void>();
        fake.heldStarts.push(held);
        await held.promise;
      }
      const failure = fake.startFailures.shift();
      if (failure !== undefined) throw clientError(failure);
      const uri = (id: string) => `http://localhost:3000/api/login/requests/${id}`;
      return begin((id) => ({ requestUri: uri(id), qr: uri(id) })) as StartedSession;
    },
    async push(address) {
      if (mode === "qr") throw new Error("the QR store never pushes");
      fake.calls.push.push(address);
      const failure = fake.pushFailures.shift();
      if (failure !== undefined) throw clientError(failure);
      return begin(() => ({})) as StartedPushSession;
    },
    async resume() {
      throw new Error("the store never resumes by itself; the client does");
    },
    async poll() {
      if (mode === "qr") throw new Error("the QR store never polls");
      fake.calls.poll++;
      if (session === undefined) throw clientError("no_session");
      const answer = fake.pollAnswers.shift() ?? { state: current?.state ?? "pending" };
      if ("error" in answer) throw clientError(answer.error);
      // As the real client: the polled state reaches the state listeners.
      if (answer.state !== current?.state) fake.emit(answer.state, answer);
      const status: SessionStatus = { sessionId: session.sessionId, expiresAt: session.expiresAt, ...answer };
      return status;
    },
    async cancel() {
      if (session === undefined) throw clientError("no_session");
      fake.calls.cancel.push(session.sessionId);
      fake.emit("cancelled", { reason: "cancelled" });
    },
    onState(listener) {
      stateListeners.add(listener);
      return () => stateListeners.delete(listener);
    },
    onError(listener) {
      errorListeners.add(listener);
      return () => errorListeners.delete(listener);
    },
    waitForState() {
      throw new Error("not used by the store");
    },
    async redeem() {
      fake.calls.redeem++;
      if (current?.state !== "approved") throw clientError("not_approved");
      // The QR fake answers a turn later (or when the test settles redeemResult), the push fake at once.
      const response = mode === "qr" ? await (fake.redeemResult?.promise ?? Promise.resolve(REDEEMED)) : REDEEMED;
      fake.emit("redeemed");
      return response;
    },
    getSession: () => session,
    getState: () => current,
    close() {
      fake.calls.close++;
      stateListeners.clear();
      errorListeners.clear();
    },
  };
  return { fake, client };
}

export type FakeClient = ReturnType<typeof createFakeClient>["fake"];

/** What every widget store takes from a test: its clients, its callbacks and a fixed clock. */
export interface StoreTestDeps {
  createClient: () => LoginClient;
  onLogin: Mock;
  onError: Mock;
  now: () => number;
}

/**
 * A store made by `create` over fake `mode` clients: `fake()` is the last client made,
 * `state()` the store's state.
 */
export function setUpStore<M extends Mode, Store extends { getState(): unknown }>(
  mode: M,
  create: (deps: StoreTestDeps) => Store,
) {
  const clients: ReturnType<typeof createFakeClient<M>>[] = [];
  const onLogin = vi.fn();
  const onError = vi.fn();
  const store = create({
    createClient: () => {
      const made = createFakeClient(mode);
      clients.push(made);
      return made.client;
    },
    onLogin,
    onError,
    now: () => T0,
  });
  const fake = () => {
    const last = clients.at(-1);
    if (last === undefined) throw new Error("no client made yet");
    return last.fake;
  };
  return { store, clients, fake, onLogin, onError, state: () => store.getState() as ReturnType<Store["getState"]> };
}
