/**
 * The browser's side of channels and presence (docs/protocol.md section 2), free of any
 * framework and of zod: React hooks (components/realtime) and scripts both drive it.
 *
 * - The socket_id comes from the server's `connection:established`; private and presence
 *   channels are signed for exactly that id by `POST /api/channel-auth` (Bearer token).
 * - After a reconnect the socket has a new socket_id, so every channel still wanted is
 *   signed and subscribed again; a presence channel's members are replaced by the new
 *   snapshot then.
 * - Subscribing twice to one channel shares one server subscription; it is left only
 *   when the last subscription handle unsubscribes.
 * - A presence member is one user (the server counts a user with several connections
 *   once); `members()` lists each user id once.
 * - A subscribe refused for a passing reason (`unavailable`: the server's Redis is away; no
 *   answer; a network error) is tried again by itself after a pause, while the connection
 *   lasts, besides on the next reconnect; a connection the server refused as `unavailable`
 *   is asked for again (lib/client/keep-connecting.ts). A server-side disconnect is final (the server's
 *   REST API terminated the user's connections), as in pusher-js.
 */
import { openSocket } from "../client/open-socket";
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";
import { CHANNEL_API_PATHS, CHANNEL_SOCKET_EVENTS, readChannelKind } from "../protocol/channels";
import type {
  ChannelAuthResponse,
  ChannelClientToServerEvents,
  ChannelEventPayload,
  ChannelServerToClientEvents,
  ChannelSubscribed,
  ChannelSubscribePayload,
  MemberAddedPayload,
  MemberRemovedPayload,
} from "../protocol/channels";
import type { Ack } from "../protocol/login";
import { keepConnecting } from "../client/keep-connecting";

interface EstablishedEvents {
  "connection:established": (payload: { socket_id: string }) => void;
}

export type ChannelsSocket = Socket<ChannelServerToClientEvents & EstablishedEvents, ChannelClientToServerEvents>;

export interface ChannelsClientOptions {
  /** Origin of the app, e.g. `https://login.example.com`; the page's own origin when left out. */
  endpoint?: string;
  /** The signed-in user's access token for `/api/channel-auth`; null when signed out. */
  getAccessToken?: () => Promise<string | null> | string | null;
  /**
   * Signs a private channel's subscription some other way instead (a wallet's own channel is
   * signed by `/api/attestor/channel-auth` for a proof of its key); throw a ChannelsClientError to refuse.
   */
  authorize?: (socketId: string, channel: string) => Promise<ChannelAuthResponse>;
  /**
   * A socket to use instead of opening one; it must not have connected yet (the
   * socket_id arrives once, on connect). The client leaves it open on close().
   */
  socket?: ChannelsSocket;
  /** Passed to socket.io-client's `io()` over the defaults (path `/socket.io`, websocket only). */
  io?: Partial<ManagerOptions & SocketOptions>;
  ackTimeoutMs?: number;
  fetch?: typeof fetch;
}

export interface PresenceMember {
  id: string;
  /** The member's user_info (null when the server sent none). */
  info: unknown;
}

/** `data` as sent, parsed as JSON when it is JSON (as pusher-js does), else the raw text. */
export type ChannelEventHandler = (data: unknown, event: ChannelEventPayload) => void;

export interface ChannelSubscription {
  readonly channel: string;
  /** Calls `handler` for every `event` on this channel; returns the unbind. */
  bind(event: string, handler: ChannelEventHandler): () => void;
  /** Presence channels: the members as last known, each user once. */
  members(): PresenceMember[];
  onMembersChange(listener: (members: PresenceMember[]) => void): () => void;
  /** Whether the server has acknowledged the current connection's subscribe. */
  isSubscribed(): boolean;
  onSubscribed(listener: () => void): () => void;
  /** A subscribe (or its auth) that failed; retried by the next reconnect. */
  onError(listener: (error: ChannelsClientError) => void): () => void;
  unsubscribe(): void;
}

export interface ChannelsClient {
  readonly socket: ChannelsSocket;
  /** The current connection's Pusher-style socket id, once the server has sent it. */
  getSocketId(): string | undefined;
  subscribe(channel: string): ChannelSubscription;
  close(): void;
}

/**
 * `code` is a docs/protocol.md error code from the server, or a local one: `timeout`,
 * `no_token`, `network_error`, `http_error`.
 */
export class ChannelsClientError extends Error {
  override readonly name = "ChannelsClientError";

  constructor(
    readonly code: string,
    message: string,
    readonly details: { status?: number; channel?: string; cause?: unknown } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

const DEFAULT_ACK_TIMEOUT_MS = 10_000;
/** Pauses before a subscribe is tried again (the last one repeats). */
const RETRY_DELAYS_MS = [500, 1_000, 2_000, 5_000];
const RETRYABLE_CODES: ReadonlySet<string> = new Set(["unavailable", "timeout", "network_error", "internal_error"]);

interface ChannelState {
  name: string;
  handles: number;
  /** Bumped by every subscribe attempt and by leaving: stale answers are dropped. */
  attempt: number;
  /** Failed attempts in a row, for the retry pause; the pending retry. */
  failures: number;
  retry?: ReturnType<typeof setTimeout>;
  isSubscribed: boolean;
  handlers: Map<string, Set<ChannelEventHandler>>;
  members: Map<string, unknown>;
  /**
   * Presence changes heard while a subscribe is in flight. The server joins the socket to
   * the channel's room before it reads the snapshot, so a member who joins or leaves in
   * between is announced before the ack whose snapshot may not hold the change yet: the
   * ack's snapshot is the base and these are applied on top, in order.
   */
  heardDuringSubscribe?: Array<{ userId: string; userInfo?: unknown; isAdded: boolean }>;
  memberListeners: Set<(members: PresenceMember[]) => void>;
  subscribedListeners: Set<() => void>;
  errorListeners: Set<(error: ChannelsClientError) => void>;
}

function notify<T extends unknown[]>(listeners: Iterable<(...args: T) => void>, ...args: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(...args);
    } catch (error) {
      // One faulty listener must not starve the others; rethrown so it is still seen.
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data) as unknown;
  } catch {
    return data;
  }
}

export function createChannelsClient(options: ChannelsClientOptions): ChannelsClient {
  const { endpoint, ownsSocket, socket } = openSocket<ChannelsSocket>(options);
  const ackTimeoutMs = options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS;

  const channels = new Map<string, ChannelState>();
  let socketId: string | undefined;
  let isClosed = false;

  const membersOf = (state: ChannelState): PresenceMember[] => [...state.members].map(([id, info]) => ({ id, info }));

  function fail(state: ChannelState, error: ChannelsClientError): void {
    notify(state.errorListeners, error);
    if (!RETRYABLE_CODES.has(error.code) || isClosed || channels.get(state.name) !== state) return;
    clearTimeout(state.retry);
    const delay = RETRY_DELAYS_MS[Math.min(state.failures++, RETRY_DELAYS_MS.length - 1)]!;
    const attempt = state.attempt;
    state.retry = setTimeout(() => {
      state.retry = undefined;
      // A reconnect or a leave since then has its own attempt.
      if (state.attempt === attempt && channels.get(state.name) === state) void subscribeOnServer(state);
    }, delay);
  }

  async function fetchAuth(channel: string, forSocketId: string): Promise<ChannelAuthResponse> {
    if (options.authorize) return options.authorize(forSocketId, channel);
    const token = (await options.getAccessToken?.()) ?? null;
    if (token === null) throw new ChannelsClientError("no_token", "Sign in to subscribe to this channel.", { channel });
    const doFetch = options.fetch ?? globalThis.fetch;
    let response: Response;
    try {
      response = await doFetch(`${endpoint}${CHANNEL_API_PATHS.channelAuth}`, {
        method: "POST",
        credentials: "include",
        headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
        body: JSON.stringify({ socket_id: forSocketId, channel_name: channel }),
      });
    } catch (cause) {
      throw new ChannelsClientError("network_error", "Could not reach the server to authorize the channel.", {
        channel,
        cause,
      });
    }
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok && typeof (body as ChannelAuthResponse | undefined)?.auth === "string") {
      return body as ChannelAuthResponse;
    }
    const error = (body as { error?: { code?: unknown; message?: unknown } } | undefined)?.error;
    if (typeof error?.code === "string") {
      const message = typeof error.message === "string" ? error.message : error.code;
      throw new ChannelsClientError(error.code, message, { status: response.status, channel });
    }
    throw new ChannelsClientError("http_error", `The server answered ${response.status}.`, {
      status: response.status,
      channel,
    });
  }

  async function emitSubscribe(payload: ChannelSubscribePayload): Promise<Ack<ChannelSubscribed>> {
    // socket.io's types lose the ack's type under timeout(); the event map states it.
    const timed = socket.timeout(ackTimeoutMs) as unknown as {
      emitWithAck(event: string, payload: unknown): Promise<Ack<ChannelSubscribed>>;
    };
    try {
      return await timed.emitWithAck(CHANNEL_SOCKET_EVENTS.subscribe, payload);
    } catch (cause) {
      throw new ChannelsClientError("timeout", `No answer to subscribe within ${ackTimeoutMs} ms.`, {
        channel: payload.channel,
        cause,
      });
    }
  }

  async function subscribeOnServer(state: ChannelState): Promise<void> {
    const forSocketId = socketId;
    if (forSocketId === undefined || isClosed) return;
    const attempt = ++state.attempt;
    state.isSubscribed = false;
    const isCurrent = () => !isClosed && state.attempt === attempt && socketId === forSocketId;
    try {
      const payload: ChannelSubscribePayload = { channel: state.name };
      if (readChannelKind(state.name) !== "public") {
        const signed = await fetchAuth(state.name, forSocketId);
        if (!isCurrent()) return;
        payload.auth = signed.auth;
        if (signed.channel_data !== undefined) payload.channel_data = signed.channel_data;
      }
      state.heardDuringSubscribe = [];
      const ack = await emitSubscribe(payload);
      if (!isCurrent()) return;
      const heard = state.heardDuringSubscribe;
      state.heardDuringSubscribe = undefined;
      if (!ack.ok) {
        fail(state, new ChannelsClientError(ack.error.code, ack.error.message, { channel: state.name }));
        return;
      }
      state.isSubscribed = true;
      state.failures = 0;
      if (ack.presence) {
        const { ids, hash } = ack.presence;
        state.members = new Map(ids.map((id) => [id, Object.hasOwn(hash, id) ? (hash[id] ?? null) : null]));
        for (const change of heard ?? []) {
          if (change.isAdded) state.members.set(change.userId, change.userInfo ?? null);
          else state.members.delete(change.userId);
        }
        notify(state.memberListeners, membersOf(state));
      }
      notify(state.subscribedListeners);
    } catch (error) {
      if (!isCurrent()) return;
      state.heardDuringSubscribe = undefined;
      fail(
        state,
        error instanceof ChannelsClientError
          ? error
          : new ChannelsClientError("internal_error", "The subscribe failed.", { channel: state.name, cause: error }),
      );
    }
  }

  function onEstablished({ socket_id: id }: { socket_id: string }): void {
    socketId = id;
    for (const state of channels.values()) void subscribeOnServer(state);
  }

  function onDisconnect(): void {
    socketId = undefined;
    for (const state of channels.values()) {
      state.attempt++;
      state.isSubscribed = false;
    }
  }

  function onChannelEvent(payload: ChannelEventPayload): void {
    const state = channels.get(payload.channel);
    const handlers = state?.handlers.get(payload.event);
    if (!handlers || handlers.size === 0) return;
    notify(handlers, parseData(payload.data), payload);
  }

  function onMemberAdded({ channel, user_id: userId, user_info: userInfo }: MemberAddedPayload): void {
    const state = channels.get(channel);
    if (!state) return;
    state.heardDuringSubscribe?.push({ userId, userInfo, isAdded: true });
    state.members.set(userId, userInfo ?? null);
    notify(state.memberListeners, membersOf(state));
  }

  function onMemberRemoved({ channel, user_id: userId }: MemberRemovedPayload): void {
    const state = channels.get(channel);
    if (!state) return;
    state.heardDuringSubscribe?.push({ userId, isAdded: false });
    if (!state.members.delete(userId)) return;
    notify(state.memberListeners, membersOf(state));
  }

  socket.on("connection:established", onEstablished);
  socket.on("disconnect", onDisconnect);
  const stopConnecting = keepConnecting(socket as unknown as Parameters<typeof keepConnecting>[0], () => !isClosed);
  socket.on("channel:event", onChannelEvent);
  socket.on("presence:member_added", onMemberAdded);
  socket.on("presence:member_removed", onMemberRemoved);

  function leave(state: ChannelState): void {
    channels.delete(state.name);
    clearTimeout(state.retry);
    state.attempt++;
    state.isSubscribed = false;
    if (socket.connected) socket.emit(CHANNEL_SOCKET_EVENTS.unsubscribe, { channel: state.name });
  }

  function subscribe(channel: string): ChannelSubscription {
    let state = channels.get(channel);
    const isNew = state === undefined;
    if (state === undefined) {
      state = {
        name: channel,
        handles: 0,
        attempt: 0,
        failures: 0,
        isSubscribed: false,
        handlers: new Map(),
        members: new Map(),
        memberListeners: new Set(),
        subscribedListeners: new Set(),
        errorListeners: new Set(),
      };
      if (!isClosed) channels.set(channel, state);
    }
    const shared = state;
    shared.handles++;
    if (isNew) void subscribeOnServer(shared);

    // What this handle added, removed again by its unsubscribe().
    const cleanups = new Set<() => void>();
    let isActive = true;
    const track = <T>(set: Set<T>, item: T): (() => void) => {
      if (!isActive) return () => {};
      set.add(item);
      const remove = () => {
        set.delete(item);
        cleanups.delete(remove);
      };
      cleanups.add(remove);
      return remove;
    };

    return {
      channel,
      bind(event, handler) {
        let handlers = shared.handlers.get(event);
        if (!handlers) {
          handlers = new Set();
          shared.handlers.set(event, handlers);
        }
        return track(handlers, handler);
      },
      members: () => membersOf(shared),
      onMembersChange: (listener) => track(shared.memberListeners, listener),
      isSubscribed: () => shared.isSubscribed,
      onSubscribed: (listener) => track(shared.subscribedListeners, listener),
      onError: (listener) => track(shared.errorListeners, listener),
      unsubscribe() {
        if (!isActive) return;
        isActive = false;
        for (const cleanup of [...cleanups]) cleanup();
        shared.handles--;
        if (shared.handles === 0 && channels.get(channel) === shared) leave(shared);
      },
    };
  }

  return {
    socket,
    getSocketId: () => socketId,
    subscribe,
    close() {
      if (isClosed) return;
      for (const state of [...channels.values()]) leave(state);
      isClosed = true;
      stopConnecting();
      socket.off("connection:established", onEstablished);
      socket.off("disconnect", onDisconnect);
      socket.off("channel:event", onChannelEvent);
      socket.off("presence:member_added", onMemberAdded);
      socket.off("presence:member_removed", onMemberRemoved);
      if (ownsSocket) socket.disconnect();
    },
  };
}
