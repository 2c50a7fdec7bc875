import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../router";
import { sendError } from "../respond";
import { allowOrigins } from "../cors";
import { authorizeRequest } from "../../tokens/authorize";
import { createAccessTokenVerifier } from "../../tokens/access-tokens";
import { findUserById, toMeUser } from "../../db/users";

/** One verifier (and so one cache of accepted tokens) per running app, shared by every route. */
const verifiers = new WeakMap<AppContext, ReturnType<typeof createAccessTokenVerifier>>();

function verifierFor(ctx: AppContext) {
  let verify = verifiers.get(ctx);
  if (!verify) {
    verify = createAccessTokenVerifier([ctx.signingKey], {
      issuer: ctx.config.publicUrl,
      audience: ctx.config.publicUrl,
    });
    verifiers.set(ctx, verify);
  }
  return verify;
}

/** Protects a route with a Bearer access token; the claims land in `c.var.auth`. */
export function requireAccessToken(ctx: AppContext): MiddlewareHandler<ApiEnv> {
  const verify = verifierFor(ctx);
  return async (c, next) => {
    const result = await authorizeRequest(c.req.header("authorization"), verify);
    if (!result.ok) return sendError(c, "invalid_token", { "WWW-Authenticate": result.wwwAuthenticate });
    c.set("auth", { userId: result.claims.sub, address: result.claims.address });
    return next();
  };
}

export function createMeRoutes(ctx: AppContext) {
  const routes = new Hono<ApiEnv>();
  routes.use("*", allowOrigins(ctx.config.allowedOrigins));
  routes.get("/", requireAccessToken(ctx), async (c) => {
    const user = await findUserById(ctx.db, c.var.auth.userId);
    if (!user) return sendError(c, "invalid_token", { "WWW-Authenticate": 'Bearer error="invalid_token"' });
    return c.json({ user: toMeUser(user) }, 200, { "Cache-Control": "no-store" });
  });
  return routes;
}
