/**
 * Clients for the channel suites: a socket that records channel pushes, the official
 * `pusher` SDK pointed at a test app, signed REST calls built by hand (to get one thing
 * wrong on purpose), and a signed-in user. Every wait is bounded and event-driven.
 */
import Pusher from "pusher";
import type { Socket } from "socket.io-client";
import { expect } from "vitest";
import type {
  ChannelEventPayload,
  ChannelSubscribed,
  MemberAddedPayload,
  MemberRemovedPayload,
} from "../../lib/protocol/channels";
import type { Ack } from "../../lib/protocol/login";
import { signRestRequest, type AppCredentials } from "../../server/channels/signing";
import { connectSocket, emitAck, logIn, request, WAIT_MS } from "../protocol/helpers";
import type { TestApp } from "../support/start-test-app";

export { WAIT_MS };

type Push =
  | { type: "channel:event"; payload: ChannelEventPayload }
  | { type: "presence:member_added"; payload: MemberAddedPayload }
  | { type: "presence:member_removed"; payload: MemberRemovedPayload };

/** A connected socket and every channel push it received, in order. */
export class ChannelClient {
  readonly pushes: Push[] = [];
  private waiters: Array<{ match: (push: Push) => boolean; resolve: (push: Push) => void }> = [];

  constructor(
    readonly socket: Socket,
    readonly socketId: string,
  ) {
    for (const type of ["channel:event", "presence:member_added", "presence:member_removed"] as const) {
      socket.on(type, (payload: unknown) => this.record({ type, payload } as Push));
    }
  }

  private record(push: Push) {
    this.pushes.push(push);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.match(push)) return true;
      waiter.resolve(push);
      return false;
    });
  }

  subscribe(channel: string, extra: { auth?: string; channel_data?: string } = {}) {
    return emitAck(this.socket, "channel:subscribe", { channel, ...extra }) as Promise<Ack<ChannelSubscribed>>;
  }

  unsubscribe(channel: string) {
    return emitAck(this.socket, "channel:unsubscribe", { channel });
  }

  events(channel?: string) {
    return this.pushes
      .filter((push): push is Extract<Push, { type: "channel:event" }> => push.type === "channel:event")
      .map((push) => push.payload)
      .filter((payload) => channel === undefined || payload.channel === channel);
  }

  /** `added:<user>` / `removed:<user>` for one channel, in order. */
  presence(channel: string): string[] {
    return this.pushes.flatMap((push) => {
      if (push.type === "presence:member_added" && push.payload.channel === channel)
        return [`added:${push.payload.user_id}`];
      if (push.type === "presence:member_removed" && push.payload.channel === channel) {
        return [`removed:${push.payload.user_id}`];
      }
      return [];
    });
  }

  /** The first push (already received or still to come) that matches. */
  waitFor(match: (push: Push) => boolean, timeoutMs = WAIT_MS): Promise<Push> {
    const seen = this.pushes.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (push: Push) => {
          clearTimeout(timer);
          resolve(push);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching push in ${timeoutMs} ms; got ${JSON.stringify(this.pushes)}`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  waitForEvent(channel: string, event: string, timeoutMs?: number) {
    return this.waitFor(
      (push) => push.type === "channel:event" && push.payload.channel === channel && push.payload.event === event,
      timeoutMs,
    );
  }

  waitForPresence(channel: string, entry: string, timeoutMs?: number) {
    const [kind, userId] = entry.split(":") as ["added" | "removed", string];
    return this.waitFor(
      (push) =>
        push.type === `presence:member_${kind}` &&
        push.payload.channel === channel &&
        "user_id" in push.payload &&
        push.payload.user_id === userId,
      timeoutMs,
    );
  }

  close() {
    this.socket.disconnect();
  }
}

export async function connectChannelClient(baseUrl: string): Promise<ChannelClient> {
  const { socket, socketId } = await connectSocket(baseUrl);
  return new ChannelClient(socket as unknown as Socket, socketId);
}

/** The official SDK, pointed at a test app. */
export function createPusherSdk(baseUrl: string, credentials: AppCredentials): Pusher {
  const { hostname, port } = new URL(baseUrl);
  return new Pusher({ ...credentials, host: hostname, port, useTLS: false });
}

/**
 * A REST call signed by hand. `tamper` changes the request after signing (or the
 * signing itself) so a test can get exactly one thing wrong.
 */
export async function callRest(
  baseUrl: string,
  credentials: AppCredentials,
  request_: {
    method: "GET" | "POST";
    path: string;
    params?: Record<string, string>;
    body?: string;
    timestamp?: number;
    signBody?: string;
    extraQuery?: string;
  },
) {
  const query = signRestRequest(credentials, {
    method: request_.method,
    path: request_.path,
    params: request_.params,
    body: request_.signBody ?? request_.body,
    timestamp: request_.timestamp ?? Math.floor(Date.now() / 1000),
  });
  const search = new URLSearchParams(query).toString() + (request_.extraQuery ?? "");
  return request(`${baseUrl}${request_.path}?${search}`, {
    method: request_.method,
    headers: request_.body === undefined ? {} : { "content-type": "application/json" },
    body: request_.body,
  });
}

/** A user signed in through the whole QR flow: their id, address and access token. */
export async function signInUser(baseUrl: string) {
  const { redeemed } = await logIn(baseUrl);
  return { userId: redeemed.user.id, address: redeemed.user.address, accessToken: redeemed.accessToken };
}

export function postChannelAuth(
  baseUrl: string,
  body: Record<string, string> | string,
  headers: Record<string, string> = {},
  as: "json" | "form" = "json",
) {
  const text =
    typeof body === "string" ? body : as === "json" ? JSON.stringify(body) : new URLSearchParams(body).toString();
  return request<{ auth?: string; channel_data?: string }>(`${baseUrl}/api/channel-auth`, {
    method: "POST",
    headers: {
      "content-type": as === "json" ? "application/json" : "application/x-www-form-urlencoded",
      ...headers,
    },
    body: text,
  });
}

/** A failed subscribe ack with this code. */
export function expectAckError(ack: Ack<object>, code: string) {
  expect(ack).toEqual({ ok: false, error: { code, message: expect.any(String) } });
}

/** Resolves once `client` has received `event` on `channel`, proving every earlier push on that path arrived. */
export async function triggerProbe(sdk: Pusher, client: ChannelClient, channel: string) {
  const name = `probe-${Math.random().toString(36).slice(2)}`;
  await sdk.trigger(channel, name, {});
  await client.waitForEvent(channel, name);
}

/**
 * Closes `socket` and resolves once `app` has seen the disconnect and finished removing
 * the socket's channel subscriptions: whatever it announces about them (member_removed)
 * it has emitted by then, so a probe sent afterwards arrives after it. `pusherSocketId`
 * is the socket_id of connection:established.
 */
export async function closeAndSettle(
  app: Pick<TestApp, "ctx">,
  socket: { id?: string; disconnect(): unknown },
  pusherSocketId: string,
): Promise<void> {
  const onServer = socket.id === undefined ? undefined : app.ctx.io.of("/").sockets.get(socket.id);
  if (!onServer) throw new Error(`socket ${socket.id} is not connected to this app`);
  const gone = new Promise<void>((resolve) => onServer.once("disconnect", () => resolve()));
  socket.disconnect();
  await gone;
  // Queued behind the clean-up the disconnect started (one queue per socket): done once that is.
  await app.ctx.channels.removeSocket(pusherSocketId);
}
