import { Hono } from "hono";
import type { Context } from "hono";
import { authBodySchema, denyBodySchema, redeemBodySchema } from "../../../lib/protocol/login-schemas";
import type { RedeemResponse } from "../../../lib/protocol/login";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { logOfBindings } from "../request-id";
import { readJsonBody } from "../body";
import { allowAnyOrigin, allowOrigins } from "../cors";
import { readClientIp, readUserAgent } from "../client-info";
import { limitPerIp } from "../rate-limit";
import { issueAccessToken } from "../../tokens/access-tokens";
import {
  buildClearRefreshCookie,
  buildRefreshCookie,
  issueRefreshToken,
  readRefreshCookie,
  revokeRefreshFamily,
  rotateRefreshToken,
} from "../../tokens/refresh-tokens";
import { findUserById, toPublicUser } from "../../db/users";

export type AuthRouteDeps = Pick<
  AppContext,
  "config" | "db" | "log" | "login" | "loginWrites" | "signingKey" | "stores" | "metrics" | "requestIds"
>;

/** The wallet's answer and deny; the browser's redeem, refresh and logout. */
export function createAuthRoutes(ctx: AuthRouteDeps) {
  const routes = new Hono<ApiEnv>();
  const { config } = ctx;
  const isSecure = config.publicUrl.startsWith("https:");
  const refreshMaxAge = Math.floor(config.refreshTokenTtlMs / 1000);

  async function issueSession(
    c: Context<ApiEnv>,
    user: { id: string; address: string; claims: unknown },
    refreshToken: string,
  ) {
    const access = await issueAccessToken(ctx.signingKey, {
      issuer: config.publicUrl,
      audience: config.publicUrl,
      userId: user.id,
      address: user.address,
      ttlSeconds: config.accessTokenTtlSeconds,
    });
    c.header("Set-Cookie", buildRefreshCookie(refreshToken, { secure: isSecure, maxAgeSeconds: refreshMaxAge }));
    c.header("Cache-Control", "no-store");
    const body: RedeemResponse = {
      accessToken: access.token,
      tokenType: "Bearer",
      expiresIn: access.expiresIn,
      user: toPublicUser(user as Parameters<typeof toPublicUser>[0]),
    };
    return c.json(body, 200);
  }

  routes.use("/", allowAnyOrigin());
  const limitAnswers = limitPerIp(ctx, { bucket: "auth", limit: config.rateLimits.authPerIp, metric: "auth_ip" });
  routes.post("/", limitAnswers, async (c) => {
    const ip = readClientIp(c, config.trustedProxies);
    const body = await readJsonBody(c, authBodySchema);
    if (!body.ok) return body.response;
    const result = await ctx.login.submitLoginAnswer(body.data, {
      ip,
      userAgent: readUserAgent(c),
      requestId: c.env?.incoming ? ctx.requestIds.idOf(c.env.incoming) : undefined,
    });
    if (!result.ok) return sendError(c, result.code, undefined, undefined, result.reason);
    return c.json({ ok: true, state: result.state }, 200);
  });

  routes.use("/deny", allowAnyOrigin());
  routes.post("/deny", async (c) => {
    const body = await readJsonBody(c, denyBodySchema);
    if (!body.ok) return body.response;
    const result = await ctx.login.denyLogin(body.data.sessionId);
    if (!result.ok) return sendError(c, result.code);
    return c.json({ ok: true, state: result.state }, 200);
  });

  routes.use("/redeem", allowOrigins(config.allowedOrigins));
  routes.post("/redeem", async (c) => {
    const body = await readJsonBody(c, redeemBodySchema);
    if (!body.ok) return body.response;
    const result = await ctx.login.redeemCode(body.data);
    if (!result.ok) return sendError(c, result.code);
    // The user was written when the session was approved, moments ago.
    const [user, refresh] = await Promise.all([
      ctx.loginWrites.findUser(result.userId),
      issueRefreshToken(
        ctx.db,
        { userId: result.userId, ttlMs: config.refreshTokenTtlMs },
        ctx.loginWrites.insertRefreshToken,
      ),
    ]);
    if (!user) return sendError(c, "invalid_code");
    return issueSession(c, user, refresh.token);
  });

  routes.use("/refresh", allowOrigins(config.allowedOrigins));
  routes.post("/refresh", async (c) => {
    const token = readRefreshCookie(c.req.header("cookie"));
    const rotated = token ? await rotateRefreshToken(ctx.db, token, { ttlMs: config.refreshTokenTtlMs }) : null;
    const user = rotated?.ok ? await findUserById(ctx.db, rotated.userId) : null;
    if (!rotated?.ok || !user) {
      if (rotated && !rotated.ok && rotated.reuse)
        logOfBindings(ctx.requestIds, ctx.log, c.env).warn(
          { event: "refresh_reuse" },
          "rotated-out refresh token presented; family revoked",
        );
      return sendError(c, "invalid_token", {
        "Set-Cookie": buildClearRefreshCookie({ secure: isSecure }),
        "WWW-Authenticate": 'Bearer error="invalid_token"',
      });
    }
    return issueSession(c, user, rotated.token);
  });

  routes.use("/logout", allowOrigins(config.allowedOrigins));
  routes.post("/logout", async (c) => {
    const token = readRefreshCookie(c.req.header("cookie"));
    if (token) await revokeRefreshFamily(ctx.db, token);
    c.header("Set-Cookie", buildClearRefreshCookie({ secure: isSecure }));
    return c.body(null, 204);
  });

  return routes;
}
