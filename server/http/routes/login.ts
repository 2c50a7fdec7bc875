import { Hono } from "hono";
import { sessionIdSchema } from "../../../lib/protocol/login-schemas";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { allowAnyOrigin, allowOrigins } from "../cors";

export type LoginRouteDeps = Pick<AppContext, "config" | "login">;

/** The wallet reads the request behind a QR; browsers without websockets poll their session. */
export function createLoginRoutes(ctx: LoginRouteDeps) {
  const routes = new Hono<ApiEnv>();

  routes.use("/requests/*", allowAnyOrigin());
  routes.get("/requests/:sessionId", async (c) => {
    // Hono routes HEAD here too; only a real read may count as a scan.
    if (c.req.method === "HEAD") return c.body(null, 405, { Allow: "GET" });
    const id = sessionIdSchema.safeParse(c.req.param("sessionId"));
    if (!id.success) return sendError(c, "session_not_found", undefined, 404);
    const result = await ctx.login.readLoginRequest(id.data);
    if (result.ok) return c.json(result.request, 200, { "Cache-Control": "no-store" });
    return sendError(c, result.code, undefined, result.code === "session_not_found" ? 404 : 410);
  });

  routes.use("/sessions/*", allowOrigins(ctx.config.allowedOrigins));
  routes.get("/sessions/:sessionId", async (c) => {
    const id = sessionIdSchema.safeParse(c.req.param("sessionId"));
    const secret = c.req.header("x-browser-secret");
    const status = id.success && secret ? await ctx.login.readSessionStatus(id.data, secret.slice(0, 100)) : null;
    // Unknown id and wrong secret are answered alike.
    if (!status) return sendError(c, "session_not_found", undefined, 404);
    return c.json(status, 200, { "Cache-Control": "no-store" });
  });

  return routes;
}
