/*
 * The Pusher Channels HTTP API on `/apps/{appId}/...` (docs/protocol.md section 2), so the
 * official Pusher server SDKs, pointed at this host and port, work unchanged.
 *
 * Rules:
 * - Order of checks: the app id (404 app_not_found), the query's signature and key
 *   (401 invalid_auth), auth_timestamp within 600 s (401 invalid_timestamp), then the
 *   body: at most REST_MAX_BODY_BYTES (413), body_md5 over its exact bytes (401
 *   body_md5_mismatch), valid UTF-8 JSON (400), then Pusher's limits: data 10 KB (413
 *   data_too_large), 100 channels per event and 10 events per batch (400), names 200.
 * - The signature covers the raw path and query; see server/channels/signing.ts.
 * - Server to server: no CORS headers, so browsers cannot call it from a page.
 * - Events go out with io.to(room).emit, which reaches every node through the adapter;
 *   socket_id leaves that one connection out. Counts come from the shared store.
 */
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import type { z } from "zod";
import { CHANNEL_LIMITS, PRESENCE_CHANNEL_PREFIX, readChannelKind } from "../../../lib/protocol/channels";
import type {
  ChannelAttributes,
  ChannelStateResponse,
  ChannelsResponse,
  ChannelUsersResponse,
} from "../../../lib/protocol/channels";
import {
  batchEventsBodySchema,
  parseInfoAttributes,
  restChannelNameSchema,
  socketIdSchema,
  triggerEventBodySchema,
  userIdSchema,
} from "../../../lib/protocol/channel-schemas";
import type { Result } from "../../../lib/protocol/errors";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { readBodyBytes } from "../body";
import { verifyBodyMd5, verifyRestQuery } from "../../channels/signing";
import { disconnectUserSockets, emitChannelEvent } from "../../realtime/emit";
import { timingSafeEqualString } from "../../crypto/random";

/** Ten events of 10 KB data each, with room for JSON escaping. */
export const REST_MAX_BODY_BYTES = 256 * 1024;

type PusherApiEnv = {
  Bindings: ApiEnv["Bindings"];
  Variables: ApiEnv["Variables"] & { params: ReadonlyMap<string, string>; body: Uint8Array };
};

const EVENT_INFO = ["user_count", "subscription_count"] as const;
type EventInfo = (typeof EVENT_INFO)[number];

export type PusherApiDeps = Pick<AppContext, "channelCredentials" | "io" | "stores" | "metrics">;

export function createPusherApiRoutes(ctx: PusherApiDeps) {
  const routes = new Hono<PusherApiEnv>();
  const credentials = ctx.channelCredentials;
  const store = ctx.stores.presence;

  const authenticate: MiddlewareHandler<PusherApiEnv> = async (c, next) => {
    if (!timingSafeEqualString(c.req.param("appId") ?? "", credentials.appId)) return sendError(c, "app_not_found");
    const url = new URL(c.req.url);
    const verified = verifyRestQuery(credentials, {
      method: c.req.method,
      path: url.pathname,
      query: url.search.slice(1),
      nowMs: Date.now(),
    });
    if (!verified.ok) return sendError(c, verified.code);
    c.set("params", verified.params);
    return next();
  };

  // An oversized body is not read further, so its connection is closed after the answer.
  const readBody: MiddlewareHandler<PusherApiEnv> = async (c, next) => {
    const read = await readBodyBytes(c, REST_MAX_BODY_BYTES);
    if (!read.ok) return sendError(c, read.code);
    const body = new Uint8Array(read.bytes.buffer, read.bytes.byteOffset, read.bytes.byteLength);
    if (!verifyBodyMd5(c.var.params, body)) return sendError(c, "body_md5_mismatch");
    c.set("body", body);
    return next();
  };

  routes.use("/:appId/*", authenticate);
  routes.on("POST", "/:appId/*", readBody);

  /** Counts a trigger's `info` asks for, per channel. */
  async function readEventInfo(channel: string, wanted: Set<EventInfo>): Promise<ChannelAttributes> {
    if (wanted.size === 0) return {};
    const counts = await store.readChannel(channel);
    const attributes: ChannelAttributes = {};
    if (wanted.has("user_count") && readChannelKind(channel) === "presence") attributes.user_count = counts.userCount;
    if (wanted.has("subscription_count")) attributes.subscription_count = counts.subscriptionCount;
    return attributes;
  }

  routes.post("/:appId/events", async (c) => {
    const parsed = parseBody(c.var.body, triggerEventBodySchema);
    if (!parsed.ok) return sendError(c, parsed.code);
    const { name, data, channels: many, channel: one, socket_id: socketId, info } = parsed.value;
    if (many !== undefined && one !== undefined) return sendError(c, "invalid_request");
    const channels = many ?? (one === undefined ? [] : [one]);
    const checked = checkEvent({ data, channels, socketId });
    if (!checked.ok) return sendError(c, checked.code);
    const wanted = parseInfoAttributes(info, EVENT_INFO);
    if (!wanted.ok) return sendError(c, "invalid_request");

    const unique = [...new Set(channels)];
    emitChannelEvent(ctx.io, { channels: unique, name, data, exceptSocketId: socketId });
    ctx.metrics.noteTriggers(1);
    if (wanted.attributes.size === 0) return c.json({}, 200);
    // Channel names come from outside: own properties only (Object.fromEntries), never assignment.
    const infos: Array<[string, ChannelAttributes]> = [];
    for (const channel of unique) infos.push([channel, await readEventInfo(channel, wanted.attributes)]);
    const body: ChannelsResponse = { channels: Object.fromEntries(infos) };
    return c.json(body, 200);
  });

  routes.post("/:appId/batch_events", async (c) => {
    const parsed = parseBody(c.var.body, batchEventsBodySchema);
    if (!parsed.ok) return sendError(c, parsed.code);
    const { batch } = parsed.value;
    if (batch.length > CHANNEL_LIMITS.maxBatchEvents) return sendError(c, "batch_too_large");
    const wanted: Array<Set<EventInfo>> = [];
    // Every event is checked before any is sent: a batch goes out whole or not at all.
    for (const event of batch) {
      const checked = checkEvent({ data: event.data, channels: [event.channel], socketId: event.socket_id });
      if (!checked.ok) return sendError(c, checked.code);
      const info = parseInfoAttributes(event.info, EVENT_INFO);
      if (!info.ok) return sendError(c, "invalid_request");
      wanted.push(info.attributes);
    }
    ctx.metrics.noteTriggers(batch.length);
    for (const event of batch) {
      emitChannelEvent(ctx.io, {
        channels: [event.channel],
        name: event.name,
        data: event.data,
        exceptSocketId: event.socket_id,
      });
    }
    if (wanted.every((attributes) => attributes.size === 0)) return c.json({}, 200);
    const attributes: ChannelAttributes[] = [];
    for (const [i, event] of batch.entries()) attributes.push(await readEventInfo(event.channel, wanted[i]!));
    return c.json({ batch: attributes }, 200);
  });

  routes.get("/:appId/channels", async (c) => {
    const prefix = c.var.params.get("filter_by_prefix") ?? "";
    if (prefix !== "" && !restChannelNameSchema.safeParse(prefix).success) return sendError(c, "invalid_request");
    const info = parseInfoAttributes(c.var.params.get("info"), ["user_count"] as const);
    if (!info.ok) return sendError(c, "invalid_request");
    const wantsUserCount = info.attributes.has("user_count");
    // As Pusher: user_count only when the listing is limited to presence channels.
    if (wantsUserCount && !prefix.startsWith(PRESENCE_CHANNEL_PREFIX)) return sendError(c, "presence_only");
    const entries = await store.listChannels(prefix);
    const body: ChannelsResponse = {
      channels: Object.fromEntries(
        entries.map((entry) => [entry.channel, wantsUserCount ? { user_count: entry.userCount } : {}]),
      ),
    };
    return c.json(body, 200);
  });

  routes.get("/:appId/channels/:channel", async (c) => {
    const channel = restChannelNameSchema.safeParse(c.req.param("channel"));
    if (!channel.success) return sendError(c, "invalid_channel");
    const info = parseInfoAttributes(c.var.params.get("info"), EVENT_INFO);
    if (!info.ok) return sendError(c, "invalid_request");
    const isPresence = readChannelKind(channel.data) === "presence";
    if (info.attributes.has("user_count") && !isPresence) return sendError(c, "presence_only");
    const counts = await store.readChannel(channel.data);
    const body: ChannelStateResponse = { occupied: counts.subscriptionCount > 0 };
    if (info.attributes.has("user_count")) body.user_count = counts.userCount;
    if (info.attributes.has("subscription_count")) body.subscription_count = counts.subscriptionCount;
    return c.json(body, 200);
  });

  routes.get("/:appId/channels/:channel/users", async (c) => {
    const channel = restChannelNameSchema.safeParse(c.req.param("channel"));
    if (!channel.success) return sendError(c, "invalid_channel");
    if (readChannelKind(channel.data) !== "presence") return sendError(c, "presence_only");
    const body: ChannelUsersResponse = { users: (await store.listMembers(channel.data)).map((id) => ({ id })) };
    return c.json(body, 200);
  });

  routes.post("/:appId/users/:userId/terminate_connections", async (c) => {
    const userId = userIdSchema.safeParse(c.req.param("userId"));
    if (!userId.success) return sendError(c, "invalid_request");
    await disconnectUserSockets(ctx.io, userId.data);
    return c.json({}, 200);
  });

  return routes;
}

/** Pusher's per-event checks: channels 1-100 with valid names, data 10 KB, socket_id. */
function checkEvent(event: { data: string; channels: string[]; socketId: string | undefined }): Result<object> {
  if (event.channels.length === 0) return { ok: false, code: "invalid_request" };
  if (event.channels.length > CHANNEL_LIMITS.maxChannelsPerEvent) return { ok: false, code: "too_many_channels" };
  for (const channel of event.channels) {
    if (!restChannelNameSchema.safeParse(channel).success) return { ok: false, code: "invalid_channel" };
  }
  if (event.socketId !== undefined && !socketIdSchema.safeParse(event.socketId).success) {
    return { ok: false, code: "invalid_socket_id" };
  }
  if (Buffer.byteLength(event.data, "utf8") > CHANNEL_LIMITS.maxEventDataBytes) {
    return { ok: false, code: "data_too_large" };
  }
  return { ok: true };
}

/** Strict UTF-8, then JSON, then the schema; each failure is invalid_request. */
function parseBody<T>(body: Uint8Array, schema: z.ZodType<T>): Result<{ value: T }> {
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(body));
  } catch {
    return { ok: false, code: "invalid_request" };
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? { ok: true, value: parsed.data } : { ok: false, code: "invalid_request" };
}
