/**
 * Channels and presence (docs/protocol.md section 2): names, limits, event names and wire
 * types. zod-free on purpose, so a browser bundle that only subscribes never pulls zod
 * in; the schemas live in channel-schemas.ts.
 */
import type { Ack } from "./login";

/** What a subscribable channel name looks like (Pusher's alphabet, 164 characters). */
export const CHANNEL_NAME_PATTERN = /^[A-Za-z0-9_\-=@,.;]{1,164}$/;
/** Channel names the REST API accepts: the same alphabet, Pusher's 200 characters. */
export const REST_CHANNEL_NAME_PATTERN = /^[A-Za-z0-9_\-=@,.;]{1,200}$/;
/** Pusher-style socket ids, `<digits>.<digits>` (schemas also bound the length). */
export const SOCKET_ID_PATTERN = /^\d+\.\d+$/;
export const MAX_SOCKET_ID_LENGTH = 64;

export const PRIVATE_CHANNEL_PREFIX = "private-";
export const PRESENCE_CHANNEL_PREFIX = "presence-";
/** `private-user-<userId>`: only that user may subscribe. */
export const PRIVATE_USER_CHANNEL_PREFIX = "private-user-";

/** UTF-8 length of `text` without encoding it (a lone surrogate counts as U+FFFD, 3 bytes, as TextEncoder writes it). */
export function utf8ByteLength(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) bytes += 1;
    else if (unit < 0x800) bytes += 2;
    else if (unit >= 0xd800 && unit <= 0xdbff && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i++;
      } else bytes += 3;
    } else bytes += 3;
  }
  return bytes;
}

/** Pusher's limits, applied the same way here. */
export const CHANNEL_LIMITS = {
  /** `data` of one event, UTF-8 bytes (413 beyond). */
  maxEventDataBytes: 10 * 1024,
  maxChannelsPerEvent: 100,
  /** Event names and REST channel names. */
  maxNameLength: 200,
  maxBatchEvents: 10,
  /** A presence member: the whole channel_data string, UTF-8 bytes. */
  maxChannelDataBytes: 1024,
  maxUserIdLength: 128,
  /** Channels one socket may be subscribed to at once. */
  maxChannelsPerSocket: 100,
  /** REST auth_timestamp may be this far from the server's clock, either way. */
  authTimestampToleranceSeconds: 600,
} as const;

export type ChannelKind = "public" | "private" | "presence";

/** `presence-*` and `private-*` need auth; every other name is public. */
export function readChannelKind(channel: string): ChannelKind {
  if (channel.startsWith(PRESENCE_CHANNEL_PREFIX)) return "presence";
  if (channel.startsWith(PRIVATE_CHANNEL_PREFIX)) return "private";
  return "public";
}

export const CHANNEL_SOCKET_EVENTS = {
  subscribe: "channel:subscribe",
  unsubscribe: "channel:unsubscribe",
  event: "channel:event",
  memberAdded: "presence:member_added",
  memberRemoved: "presence:member_removed",
} as const;

/** `channel:subscribe`: `auth` for private and presence channels, `channel_data` for presence. */
export interface ChannelSubscribePayload {
  channel: string;
  auth?: string;
  channel_data?: string;
}

export interface ChannelUnsubscribePayload {
  channel: string;
}

/** A presence channel's members when the subscribe was acknowledged (Pusher's shape). */
export interface PresenceSnapshot {
  ids: string[];
  /** user_id -> user_info (null when the member has none). */
  hash: Record<string, unknown>;
  count: number;
}

export interface ChannelSubscribed {
  channel: string;
  presence?: PresenceSnapshot;
}

export interface ChannelEventPayload {
  channel: string;
  event: string;
  /** As the server that triggered it sent it (usually JSON text). */
  data: string;
}

export interface MemberAddedPayload {
  channel: string;
  user_id: string;
  user_info: unknown;
}

export interface MemberRemovedPayload {
  channel: string;
  user_id: string;
}

/** Socket.IO event maps of channels, merged with the login ones by clients. */
export interface ChannelServerToClientEvents {
  "channel:event": (payload: ChannelEventPayload) => void;
  "presence:member_added": (payload: MemberAddedPayload) => void;
  "presence:member_removed": (payload: MemberRemovedPayload) => void;
}
export interface ChannelClientToServerEvents {
  "channel:subscribe": (payload: ChannelSubscribePayload, ack: (res: Ack<ChannelSubscribed>) => void) => void;
  "channel:unsubscribe": (payload: ChannelUnsubscribePayload, ack?: (res: Ack<object>) => void) => void;
}

/** `POST /api/channel-auth` (JSON or form-urlencoded). */
export interface ChannelAuthRequest {
  socket_id: string;
  channel_name: string;
}

export interface ChannelAuthResponse {
  /** `<APP_KEY>:<hex HMAC-SHA256>` */
  auth: string;
  /** Presence channels: the exact JSON text that was signed. */
  channel_data?: string;
}

/** What presence channel_data holds once parsed. */
export interface PresenceChannelData {
  user_id: string | number;
  user_info?: unknown;
}

// The Pusher REST API (`/apps/{appId}/...`).

export interface TriggerEventBody {
  name: string;
  data: string;
  channels?: string[];
  channel?: string;
  socket_id?: string;
  info?: string;
}

export interface BatchEvent {
  name: string;
  data: string;
  channel: string;
  socket_id?: string;
  info?: string;
}

export interface ChannelAttributes {
  user_count?: number;
  subscription_count?: number;
}

export interface ChannelsResponse {
  channels: Record<string, ChannelAttributes>;
}

export interface ChannelStateResponse extends ChannelAttributes {
  occupied: boolean;
}

export interface ChannelUsersResponse {
  users: Array<{ id: string }>;
}

export const CHANNEL_API_PATHS = {
  channelAuth: "/api/channel-auth",
  events: (appId: string) => `/apps/${appId}/events`,
  batchEvents: (appId: string) => `/apps/${appId}/batch_events`,
  channels: (appId: string) => `/apps/${appId}/channels`,
  channel: (appId: string, channel: string) => `/apps/${appId}/channels/${channel}`,
  channelUsers: (appId: string, channel: string) => `/apps/${appId}/channels/${channel}/users`,
  terminateConnections: (appId: string, userId: string) =>
    `/apps/${appId}/users/${encodeURIComponent(userId)}/terminate_connections`,
} as const;
