import { Hono } from "hono";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { allowOrigins } from "../cors";
import { requireAccessToken } from "../require-access-token";
import { findUserById, toMeUser } from "../../db/users";

export type MeRouteDeps = Pick<AppContext, "config" | "db" | "signingKey">;

export function createMeRoutes(ctx: MeRouteDeps) {
  const routes = new Hono<ApiEnv>();
  routes.use("*", allowOrigins(ctx.config.allowedOrigins));
  routes.get("/", requireAccessToken(ctx), async (c) => {
    const user = await findUserById(ctx.db, c.var.auth.userId);
    if (!user) return sendError(c, "invalid_token", { "WWW-Authenticate": 'Bearer error="invalid_token"' });
    return c.json({ user: toMeUser(user) }, 200, { "Cache-Control": "no-store" });
  });
  return routes;
}
