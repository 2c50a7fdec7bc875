/*
 * Everything this server pushes to sockets, in one place: the socket handlers, the HTTP routes,
 * the Pusher REST API and the services call these directly (nothing goes over HTTP to itself).
 * Pushes go to rooms (`io.to(room)`), which the Redis Streams adapter carries to every node.
 *
 * Rooms:
 * - `login:<sessionId>`: the sockets holding a session's browser secret; nobody else joins it.
 * - `ch:<channel>`: a channel's subscribers, joined only once their auth is good.
 * - `sid:<socket_id>`: each socket alone, so a REST trigger can leave it out.
 * - `user:<userId>`: the sockets that proved a user id, so terminate_connections reaches them.
 */
import { ENDED_STATES, type LoginStateEvent } from "../../lib/protocol/login";
import { PRIVATE_USER_CHANNEL_PREFIX } from "../../lib/protocol/channels";
import type { PresenceNotice } from "../channels/channel-service";
import type { AppSocketServer } from "./socket-server";

export const loginRoom = (sessionId: string) => `login:${sessionId}`;
/** The prefix of channel rooms (server/metrics/socket-deliveries.ts counts pushes to them). */
export const CHANNEL_ROOM_PREFIX = "ch:";
export const channelRoom = (channel: string) => `${CHANNEL_ROOM_PREFIX}${channel}`;
export const socketIdRoom = (socketId: string) => `sid:${socketId}`;
export const userRoom = (userId: string) => `user:${userId}`;

/** A user's own channel: only sockets that proved this user id may subscribe to it. */
export const privateUserChannel = (userId: string) => `${PRIVATE_USER_CHANNEL_PREFIX}${userId}`;

export function emitLoginState(io: AppSocketServer, event: LoginStateEvent) {
  const room = loginRoom(event.sessionId);
  io.to(room).emit("login:state", event);
  // Nothing follows an end: free the room, so a long-lived tab does not collect them.
  if (ENDED_STATES.includes(event.state)) io.in(room).socketsLeave(room);
}

/** `channel:event` to every subscriber of each channel, on every node, except one socket_id. */
export function emitChannelEvent(
  io: AppSocketServer,
  event: { channels: readonly string[]; name: string; data: string; exceptSocketId?: string },
) {
  for (const channel of event.channels) {
    const target = event.exceptSocketId
      ? io.to(channelRoom(channel)).except(socketIdRoom(event.exceptSocketId))
      : io.to(channelRoom(channel));
    target.emit("channel:event", { channel, event: event.name, data: event.data });
  }
}

export function emitPresenceNotice(io: AppSocketServer, notice: PresenceNotice) {
  if (notice.type === "member_added") {
    io.to(channelRoom(notice.channel))
      .except(socketIdRoom(notice.exceptSocketId))
      .emit("presence:member_added", { channel: notice.channel, user_id: notice.userId, user_info: notice.userInfo });
  } else {
    io.to(channelRoom(notice.channel)).emit("presence:member_removed", {
      channel: notice.channel,
      user_id: notice.userId,
    });
  }
}

/** Disconnects every socket, on any node, that proved to be this user. */
export async function disconnectUserSockets(io: AppSocketServer, userId: string): Promise<void> {
  await io.in(userRoom(userId)).disconnectSockets(true);
}
