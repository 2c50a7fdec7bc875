/*
 * `POST /api/notifications/test`: the dashboard's "Send me a test notification". It shows
 * how an app's server pushes to one user: a `notification` event on
 * `private-user-<userId>`, which only that user's sockets can subscribe to.
 *
 * Rules:
 * - Bearer access token (401 invalid_token); the user only ever notifies themselves.
 * - Rate limited per user (NOTIFICATION_TEST_PER_MINUTE a minute; 429 with Retry-After).
 * - The event goes out the way an integrator's server sends one: through the Pusher
 *   REST API (`POST /apps/{appId}/events`, signed by lib/sdk/realtime-server.ts), sent to
 *   this server's own listening address (the local end of the request's connection, so
 *   it works where PUBLIC_URL is not reachable from the server; PUBLIC_URL otherwise).
 *   data is `{title, body, at}` as JSON text. A failed trigger is a 500 (logged).
 * - Browser-facing: only ALLOWED_ORIGINS; never cached.
 */
import type { Socket } from "node:net";
import { Hono } from "hono";
import type { Context } from "hono";
import { PRIVATE_USER_CHANNEL_PREFIX } from "../../../lib/protocol/channels";
import { RealtimeServer } from "../../../lib/sdk/realtime-server";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { allowOrigins } from "../cors";
import { requireAccessToken } from "../require-access-token";

export const NOTIFICATION_TEST_PER_MINUTE = 10;
export const NOTIFICATION_EVENT = "notification";

export interface TestNotification {
  title: string;
  body: string;
  /** ISO 8601 */
  at: string;
}

/** Where this server itself answers: the local end of the request's plain-HTTP connection. */
function readOwnEndpoint(c: Context<ApiEnv>, fallback: string): string {
  const socket = (c.env as Partial<ApiEnv["Bindings"]> | undefined)?.incoming?.socket as
    (Socket & { encrypted?: boolean }) | undefined;
  const address = socket?.localAddress;
  const port = socket?.localPort;
  if (socket === undefined || socket.encrypted || address === undefined || port === undefined) return fallback;
  const host = address.startsWith("::ffff:") ? address.slice("::ffff:".length) : address;
  return `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

export function createNotificationRoutes(ctx: AppContext) {
  const routes = new Hono<ApiEnv>();
  const { appId, key, secret } = ctx.channelCredentials;
  /** One REST client per endpoint (in practice one). */
  const clients = new Map<string, RealtimeServer>();
  const clientFor = (endpoint: string) => {
    let client = clients.get(endpoint);
    if (client === undefined) {
      client = new RealtimeServer(appId, secret, { appKey: key, endpoint });
      clients.set(endpoint, client);
    }
    return client;
  };

  routes.use("*", allowOrigins(ctx.config.allowedOrigins));
  routes.post("/test", requireAccessToken(ctx), async (c) => {
    const { userId } = c.var.auth;
    const limited = await ctx.stores.rateLimiter.hit(`notify-test:${userId}`, NOTIFICATION_TEST_PER_MINUTE, 60_000);
    if (!limited.ok) {
      return sendError(c, "rate_limited", { "Retry-After": String(Math.ceil(limited.retryAfterMs / 1000)) });
    }
    const notification: TestNotification = {
      title: "Test notification",
      body: "Sent from your dashboard over your private channel.",
      at: new Date().toISOString(),
    };
    const endpoint = readOwnEndpoint(c, ctx.config.publicUrl);
    await clientFor(endpoint).trigger(`${PRIVATE_USER_CHANNEL_PREFIX}${userId}`, NOTIFICATION_EVENT, notification);
    return c.json({ ok: true, notification }, 200, { "Cache-Control": "no-store" });
  });
  return routes;
}
