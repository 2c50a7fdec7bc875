/**
 * Per-IP rate limits of HTTP routes (docs/protocol.md sections 1.8 and 6.6): a sliding minute per
 * client IP (./client-ip.ts: X-Forwarded-For only through TRUSTED_PROXIES) in the stores' rate
 * limiter, so with REDIS_URL every node counts into one window. Every request the route runs for
 * counts, a refused or malformed one too, and is counted before its body is read. Over the limit:
 * `429 rate_limited` with Retry-After (whole seconds, when the oldest counted request leaves the
 * minute), not counted itself; the route does not run.
 */
import type { MiddlewareHandler } from "hono";
import type { AppContext } from "../context";
import type { RateLimitName } from "../metrics/metrics";
import type { ApiEnv } from "./api-env";
import { readClientIp } from "./client-info";
import { sendError } from "./respond";

export type RateLimitDeps = Pick<AppContext, "config" | "stores" | "metrics">;

export function limitPerIp(
  ctx: RateLimitDeps,
  options: { bucket: string; limit: number; metric: RateLimitName },
): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    const ip = readClientIp(c, ctx.config.trustedProxies);
    const limited = await ctx.stores.rateLimiter.hit(
      `${options.bucket}:${ip}`,
      options.limit,
      ctx.config.rateLimits.windowMs,
    );
    if (!limited.ok) {
      ctx.metrics.noteRateLimited(options.metric);
      return sendError(c, "rate_limited", { "Retry-After": String(Math.ceil(limited.retryAfterMs / 1000)) });
    }
    return next();
  };
}
