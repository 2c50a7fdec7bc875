import { z } from "zod";
import {
  CHANNEL_LIMITS,
  CHANNEL_NAME_PATTERN,
  MAX_SOCKET_ID_LENGTH,
  REST_CHANNEL_NAME_PATTERN,
  SOCKET_ID_PATTERN,
  utf8ByteLength,
} from "./channels";
import type {
  BatchEvent,
  ChannelAuthRequest,
  ChannelSubscribePayload,
  ChannelUnsubscribePayload,
  TriggerEventBody,
} from "./channels";

/**
 * zod schemas for every input of section 2. Kept apart from channels.ts so browser
 * bundles that need only the types and event names never pull zod in. Names and ids
 * are checked separately (channelNameSchema, socketIdSchema) where the contract gives
 * them their own error, so a body that merely names a bad channel is told so.
 */
export const channelNameSchema = z.string().regex(CHANNEL_NAME_PATTERN);
export const restChannelNameSchema = z.string().regex(REST_CHANNEL_NAME_PATTERN);
export const socketIdSchema = z.string().max(MAX_SOCKET_ID_LENGTH).regex(SOCKET_ID_PATTERN);
/** A user id in a REST path: any printable text up to Pusher's 128 characters. */
export const userIdSchema = z
  .string()
  .min(1)
  .max(CHANNEL_LIMITS.maxUserIdLength)
  .regex(/^[^\p{Cc}\s]+$/u);

/** Long enough for any name, so a bad one is answered invalid_channel, not invalid_request. */
const looseName = z.string().max(1000);

/** `POST /api/channel-auth`; extra form fields (pusher-js `params`) are ignored. */
export const channelAuthBodySchema = z.object({ socket_id: looseName, channel_name: looseName });

export const channelSubscribeSchema = z.strictObject({
  channel: looseName,
  auth: z.string().max(300).optional(),
  channel_data: z
    .string()
    .max(CHANNEL_LIMITS.maxChannelDataBytes)
    .refine((text) => utf8ByteLength(text) <= CHANNEL_LIMITS.maxChannelDataBytes, "at most 1,024 UTF-8 bytes")
    .optional(),
});
export const channelUnsubscribeSchema = z.strictObject({ channel: looseName });

/** The user object in presence channel_data; a numeric user_id counts as its decimal text. */
export const presenceChannelDataSchema = z.object({
  user_id: z.union([
    z.string().min(1).max(CHANNEL_LIMITS.maxUserIdLength),
    z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  ]),
  user_info: z.unknown().optional(),
});

/**
 * The REST bodies. Arrays and `data` are bounded loosely here so that the route can
 * answer Pusher's own errors (413 for data, too_many_channels) instead of a generic 400.
 */
const eventName = z.string().min(1).max(CHANNEL_LIMITS.maxNameLength);
export const triggerEventBodySchema = z.object({
  name: eventName,
  data: z.string(),
  channels: z.array(looseName).max(10_000).optional(),
  channel: looseName.optional(),
  socket_id: looseName.optional(),
  info: z.string().max(200).optional(),
});
export const batchEventSchema = z.object({
  name: eventName,
  data: z.string(),
  channel: looseName,
  socket_id: looseName.optional(),
  info: z.string().max(200).optional(),
});
export const batchEventsBodySchema = z.object({ batch: z.array(batchEventSchema).max(10_000) });

/** `info=a,b`: the attributes asked for, each one of `allowed`; anything else is an error. */
export function parseInfoAttributes<A extends string>(
  info: string | undefined,
  allowed: readonly A[],
): { ok: true; attributes: Set<A> } | { ok: false } {
  const attributes = new Set<A>();
  if (info === undefined || info === "") return { ok: true, attributes };
  for (const part of info.split(",")) {
    const name = part.trim();
    if (name === "") continue;
    if (!(allowed as readonly string[]).includes(name)) return { ok: false };
    attributes.add(name as A);
  }
  return { ok: true, attributes };
}

// The schemas and the hand-written wire types must agree.
export type _ChannelAuthMatches = z.infer<typeof channelAuthBodySchema> extends ChannelAuthRequest ? true : never;
export type _SubscribeMatches = z.infer<typeof channelSubscribeSchema> extends ChannelSubscribePayload ? true : never;
export type _UnsubscribeMatches =
  z.infer<typeof channelUnsubscribeSchema> extends ChannelUnsubscribePayload ? true : never;
export type _TriggerMatches = z.infer<typeof triggerEventBodySchema> extends TriggerEventBody ? true : never;
export type _BatchEventMatches = z.infer<typeof batchEventSchema> extends BatchEvent ? true : never;
