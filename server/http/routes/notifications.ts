/*
 * `POST /api/notifications/test`: the dashboard's "Send me a test notification". It shows
 * how an app's server pushes to one user: a `notification` event on
 * `private-user-<userId>`, which only that user's sockets can subscribe to.
 *
 * Rules:
 * - Bearer access token (401 invalid_token); the user only ever notifies themselves.
 * - Rate limited per user (NOTIFICATION_TEST_PER_MINUTE a minute; 429 with Retry-After).
 * - The event goes out exactly as one the Pusher REST API (`POST /apps/{appId}/events`)
 *   triggers, through the same emitter (server/realtime/emit.ts), on every node; it is
 *   not sent over HTTP to this server itself. data is `{title, body, at}` as JSON text.
 * - Browser-facing: only ALLOWED_ORIGINS; never cached.
 */
import { Hono } from "hono";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { allowOrigins } from "../cors";
import { requireAccessToken } from "../require-access-token";
import { emitChannelEvent, privateUserChannel } from "../../realtime/emit";

export const NOTIFICATION_TEST_PER_MINUTE = 10;
export const NOTIFICATION_EVENT = "notification";

export interface TestNotification {
  title: string;
  body: string;
  /** ISO 8601 */
  at: string;
}

export type NotificationRouteDeps = Pick<AppContext, "config" | "signingKey" | "stores" | "io" | "metrics">;

export function createNotificationRoutes(ctx: NotificationRouteDeps) {
  const routes = new Hono<ApiEnv>();
  routes.use("*", allowOrigins(ctx.config.allowedOrigins));
  routes.post("/test", requireAccessToken(ctx), async (c) => {
    const { userId } = c.var.auth;
    const limited = await ctx.stores.rateLimiter.hit(`notify-test:${userId}`, NOTIFICATION_TEST_PER_MINUTE, 60_000);
    if (!limited.ok) {
      ctx.metrics.noteRateLimited("notifications_user");
      return sendError(c, "rate_limited", { "Retry-After": String(Math.ceil(limited.retryAfterMs / 1000)) });
    }
    const notification: TestNotification = {
      title: "Test notification",
      body: "Sent from your dashboard over your private channel.",
      at: new Date().toISOString(),
    };
    emitChannelEvent(ctx.io, {
      channels: [privateUserChannel(userId)],
      name: NOTIFICATION_EVENT,
      data: JSON.stringify(notification),
    });
    return c.json({ ok: true, notification }, 200, { "Cache-Control": "no-store" });
  });
  return routes;
}
