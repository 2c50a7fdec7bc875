/*
 * `channel:subscribe`, `channel:unsubscribe` and the channel pushes (docs/protocol.md section 2).
 *
 * Rules:
 * - `private-*` and `presence-*` need `auth` = APP_KEY:HMAC-SHA256 over THIS socket's own
 *   socket_id (the one the server gave it, never one the client names), the channel and,
 *   for presence, the exact channel_data string sent with it; compared in constant time.
 *   Public channels ignore auth.
 * - A socket joins the channel's room only once its auth is good, and before the store
 *   records it, so it misses no event that happens after its presence snapshot.
 * - Pushes go through rooms (`io.to(room)`), which the Redis Streams adapter carries to
 *   every node. Each socket is also in a room named after its socket_id (so a REST
 *   trigger can leave it out) and, once it proved a user id (presence user_id or
 *   private-user-<id>), in that user's room (so terminate_connections reaches it).
 * - Subscribes per socket are rate limited (RATE_LIMIT_SUBSCRIBE_PER_SOCKET a minute).
 * - Failed acks are `{ok:false, error:{code, message}}`; nothing a client sends can
 *   throw past the handler.
 */
import type { Socket } from "socket.io";
import { CHANNEL_NAME_PATTERN, PRIVATE_USER_CHANNEL_PREFIX, readChannelKind } from "../../lib/protocol/channels";
import type { ChannelSubscribed } from "../../lib/protocol/channels";
import type { SocketClientToServerEvents, SocketServerToClientEvents } from "../../lib/protocol/socket-events";
import {
  channelSubscribeSchema,
  channelUnsubscribeSchema,
  presenceChannelDataSchema,
} from "../../lib/protocol/channel-schemas";
import type { AppContext } from "../context";
import { verifyChannelAuth } from "../channels/signing";
import type { PresenceMemberRecord } from "../store/types";
import type { SocketData } from "./socket-server";
import { channelRoom, socketIdRoom, userRoom } from "./emit";
import { failAck as fail, runGuarded } from "./run-guarded";

type AppSocket = Socket<SocketClientToServerEvents, SocketServerToClientEvents, Record<string, never>, SocketData>;

export type ChannelHandlerDeps = Pick<
  AppContext,
  "config" | "log" | "channels" | "channelCredentials" | "io" | "metrics" | "availability"
>;

/** The presence member a verified channel_data describes, or null when it is not a user object. */
function readPresenceMember(channelData: string): PresenceMemberRecord | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(channelData);
  } catch {
    return null;
  }
  const result = presenceChannelDataSchema.safeParse(parsed);
  if (!result.success) return null;
  const userId = String(result.data.user_id);
  return { userId, userInfo: JSON.stringify(result.data.user_info ?? null) };
}

export function registerChannelHandlers(ctx: ChannelHandlerDeps) {
  const { config, log, channels, channelCredentials, availability } = ctx;
  const { subscribePerSocket, windowMs } = config.rateLimits;
  /** socket -> epoch ms of its recent subscribes */
  const recentSubscribes = new WeakMap<AppSocket, number[]>();

  const isSubscribeAllowed = (socket: AppSocket) => {
    const now = Date.now();
    const recent = (recentSubscribes.get(socket) ?? []).filter((at) => at > now - windowMs);
    const isAllowed = recent.length < subscribePerSocket;
    if (isAllowed) recent.push(now);
    recentSubscribes.set(socket, recent);
    return isAllowed;
  };

  ctx.io.on("connection", (socket) => {
    const socketId = socket.data.socketId;
    void socket.join(socketIdRoom(socketId));

    socket.on("channel:subscribe", (...args) =>
      runGuarded(
        log,
        "channel:subscribe",
        args,
        async (payload, ack) => {
          const input = channelSubscribeSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          const { channel, auth, channel_data: channelData } = input.data;
          if (!CHANNEL_NAME_PATTERN.test(channel)) return ack(fail("invalid_channel"));
          if (!isSubscribeAllowed(socket)) {
            ctx.metrics.noteRateLimited("subscribe_socket");
            return ack(fail("rate_limited"));
          }

          const kind = readChannelKind(channel);
          let member: PresenceMemberRecord | undefined;
          if (kind !== "public") {
            if (kind === "presence" && channelData === undefined) return ack(fail("invalid_auth"));
            if (!verifyChannelAuth(channelCredentials, { socketId, channel, channelData, auth })) {
              return ack(fail("invalid_auth"));
            }
            if (kind === "presence") {
              const parsed = readPresenceMember(channelData!);
              if (!parsed) return ack(fail("invalid_channel_data"));
              member = parsed;
            }
          }

          const room = channelRoom(channel);
          const wasInRoom = socket.rooms.has(room);
          await socket.join(room);
          const result = await channels.subscribe({ socketId, channel, member });
          if (!result.ok) {
            if (!wasInRoom) await socket.leave(room);
            return ack(fail(result.code));
          }
          const provenUser = member?.userId ?? readPrivateUserId(channel);
          if (provenUser !== undefined) await socket.join(userRoom(provenUser));
          // It left while this was under way: its disconnect clean-up may have run first.
          if (!socket.connected) await channels.removeSocket(socketId);
          const subscribed: ChannelSubscribed = result.presence ? { channel, presence: result.presence } : { channel };
          ack({ ok: true, ...subscribed });
        },
        { socket, availability },
      ),
    );

    socket.on("channel:unsubscribe", (...args) =>
      runGuarded(
        log,
        "channel:unsubscribe",
        args,
        async (payload, ack) => {
          const input = channelUnsubscribeSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          const { channel } = input.data;
          if (!CHANNEL_NAME_PATTERN.test(channel)) return ack(fail("invalid_channel"));
          await socket.leave(channelRoom(channel));
          await channels.unsubscribe(socketId, channel);
          ack({ ok: true });
        },
        { isAckOptional: true, socket, availability },
      ),
    );

    socket.on("disconnect", () => {
      channels
        .removeSocket(socketId)
        .catch((err: unknown) =>
          log.child({ requestId: socket.data.requestId }).warn({ err }, "channel clean-up failed"),
        );
    });
  });
}

function readPrivateUserId(channel: string): string | undefined {
  return channel.startsWith(PRIVATE_USER_CHANNEL_PREFIX)
    ? channel.slice(PRIVATE_USER_CHANNEL_PREFIX.length)
    : undefined;
}
