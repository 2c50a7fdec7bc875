/*
 * `POST /api/channel-auth` (docs/protocol.md section 2): the browser asks the app to sign its
 * subscription to a private or presence channel.
 *
 * Rules:
 * - Bearer access token first (401 invalid_token otherwise), then the body: JSON, or
 *   form-urlencoded as pusher-js sends it (400 for a bad socket_id or channel name).
 * - Whether this user may have this channel is server/channels/policy.ts's decision
 *   alone (403 forbidden).
 * - The signature binds the socket_id the browser names; the socket then only accepts
 *   a signature over its OWN socket_id, so an answer is useless to any other socket.
 * - Presence channel_data is serialised once and signed as that exact string, which is
 *   also what is returned.
 * - Browser-facing: only ALLOWED_ORIGINS; never cached.
 */
import { Hono } from "hono";
import type { Context } from "hono";
import { CHANNEL_NAME_PATTERN, MAX_SOCKET_ID_LENGTH, SOCKET_ID_PATTERN } from "../../../lib/protocol/channels";
import type { ChannelAuthRequest, ChannelAuthResponse } from "../../../lib/protocol/channels";
import { channelAuthBodySchema } from "../../../lib/protocol/channel-schemas";
import type { Result } from "../../../lib/protocol/errors";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { MAX_API_BODY_BYTES, readBodyText } from "../body";
import { allowOrigins } from "../cors";
import { requireAccessToken } from "../require-access-token";
import { decideChannelAccess } from "../../channels/policy";
import { signChannelAuth } from "../../channels/signing";

export type ChannelAuthRouteDeps = Pick<AppContext, "config" | "signingKey" | "channelCredentials">;

export function createChannelAuthRoutes(ctx: ChannelAuthRouteDeps) {
  const routes = new Hono<ApiEnv>();
  routes.use("*", allowOrigins(ctx.config.allowedOrigins));
  routes.post("/", requireAccessToken(ctx), async (c) => {
    const body = await readChannelAuthBody(c);
    if (!body.ok) return sendError(c, body.code);
    const { socket_id: socketId, channel_name: channel } = body.data;
    if (socketId.length > MAX_SOCKET_ID_LENGTH || !SOCKET_ID_PATTERN.test(socketId)) {
      return sendError(c, "invalid_socket_id");
    }
    if (!CHANNEL_NAME_PATTERN.test(channel)) return sendError(c, "invalid_channel");

    const access = decideChannelAccess(c.var.auth, channel);
    if (!access.ok) return sendError(c, access.code);
    const channelData = access.presence ? JSON.stringify(access.presence) : undefined;
    const response: ChannelAuthResponse = {
      auth: signChannelAuth(ctx.channelCredentials, socketId, channel, channelData),
      ...(channelData === undefined ? {} : { channel_data: channelData }),
    };
    return c.json(response, 200, { "Cache-Control": "no-store" });
  });
  return routes;
}

/** JSON or application/x-www-form-urlencoded; anything else is invalid_request. */
async function readChannelAuthBody(c: Context<ApiEnv>): Promise<Result<{ data: ChannelAuthRequest }>> {
  const contentType = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase();
  if (contentType !== "application/json" && contentType !== "application/x-www-form-urlencoded") {
    return { ok: false, code: "invalid_request" };
  }
  const body = await readBodyText(c, MAX_API_BODY_BYTES);
  if (!body.ok) return body;
  let raw: unknown;
  try {
    raw =
      contentType === "application/json" ? JSON.parse(body.text) : Object.fromEntries(new URLSearchParams(body.text));
  } catch {
    return { ok: false, code: "invalid_request" };
  }
  const parsed = channelAuthBodySchema.safeParse(raw);
  if (!parsed.success) return { ok: false, code: "invalid_request" };
  return { ok: true, data: parsed.data };
}
