import { Hono } from "hono";
import { getRequestListener } from "@hono/node-server";
import type { ApiEnv } from "./api-env";
import type { AppContext } from "../context";
import { errorBody, sendError } from "./respond";
import { MAX_API_BODY_BYTES, declaredBodyLimit } from "./body";
import { createLoginRoutes } from "./routes/login";
import { createAuthRoutes } from "./routes/auth";
import { createMeRoutes } from "./routes/me";
import { createAppRoutes } from "./routes/apps";
import { createDeviceRoutes, createSecurityEventRoutes } from "./routes/devices";
import { createStatusListRoutes } from "./routes/attestors";
import { createDataEndpoint, isDataFetchPath, requestPath, type NodeHandler } from "./routes/data";
import { createAppDirectory, type AppDirectory } from "../data/app-directory";
import { createJwks } from "../tokens/keys";
import { createChannelAuthRoutes } from "./routes/channel-auth";
import { createPusherApiRoutes } from "./routes/pusher-api";
import { createNotificationRoutes } from "./routes/notifications";
import { createAttestorRoutes } from "./routes/attestor";
import { createSecurityHeaders } from "./security-headers";
import { RETRY_AFTER_SECONDS, readUnavailableDependency } from "../availability";

/** Paths the API router owns; everything else goes to Next. */
export function isApiPath(pathname: string): boolean {
  return pathname.startsWith("/api/") || pathname.startsWith("/apps/") || pathname.startsWith("/.well-known/");
}

/**
 * The HTTP API: one Hono router ahead of Next (hot paths never go through Next).
 * Unexpected errors are logged once here with a request id and answered with a
 * generic 500; expected outcomes are mapped to docs/protocol.md codes by each route.
 */
export function createApiRouter(
  ctx: AppContext,
  appDirectory: AppDirectory = createAppDirectory({ db: ctx.db, log: ctx.log }),
) {
  const app = new Hono<ApiEnv>();
  const jwks = createJwks([ctx.signingKey]);

  // Bodies: a declared Content-Length over the limit is refused here from the headers; every
  // route reads its body through ./body.ts, which enforces the limit again while reading. The
  // Pusher API takes batches of 10 KB events and sets its own, larger limit.
  app.use(
    "*",
    declaredBodyLimit(MAX_API_BODY_BYTES, (path) => path.startsWith("/apps/")),
  );

  // Anyone may ask: it says the process answers, nothing about how it is built.
  app.get("/api/health", (c) => c.json({ ok: true }));
  // Readiness (for a load balancer): every dependency answers, and the server is not draining.
  app.get("/api/ready", async (c) => {
    const readiness = await ctx.availability.checkReadiness();
    const headers = { "Cache-Control": "no-store" };
    if (readiness.ok) return c.json({ ok: true }, 200, headers);
    const message = readiness.draining
      ? "The server is shutting down."
      : `Not answering: ${readiness.failed.join(", ")}.`;
    return c.json(
      { ok: false, ...errorBody("unavailable", message), failed: readiness.failed, draining: readiness.draining },
      503,
      { ...headers, "Retry-After": String(RETRY_AFTER_SECONDS) },
    );
  });
  app.get("/.well-known/jwks.json", (c) =>
    c.json(jwks, 200, { "Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*" }),
  );
  app.route("/api/login", createLoginRoutes(ctx));
  app.route("/api/auth", createAuthRoutes(ctx));
  app.route("/api/me", createMeRoutes(ctx));
  app.route("/api/channel-auth", createChannelAuthRoutes(ctx));
  app.route("/api/notifications", createNotificationRoutes(ctx));
  app.route("/apps", createPusherApiRoutes(ctx));
  app.route("/api/apps", createAppRoutes(ctx, appDirectory));
  app.route("/api/devices", createDeviceRoutes(ctx));
  app.route("/api/security-events", createSecurityEventRoutes(ctx));
  if (ctx.attestor) app.route("/api/attestor", createAttestorRoutes(ctx, ctx.attestor));
  app.route("/api/attestors", createStatusListRoutes(ctx));

  app.notFound((c) => sendError(c, "not_found"));
  app.onError((err, c) => {
    const dependency = readUnavailableDependency(err);
    if (dependency) {
      ctx.availability.reportDown(dependency, err);
      return sendError(c, "unavailable", { "Retry-After": String(RETRY_AFTER_SECONDS) });
    }
    const incoming = c.env?.incoming;
    const requestId = incoming ? ctx.requestIds.idOf(incoming) : ctx.requestIds.generate();
    const log = incoming ? ctx.requestIds.logOf(incoming) : ctx.log.child({ requestId });
    log.error({ err, method: c.req.method, path: c.req.path }, "unhandled error");
    return c.json(errorBody("internal_error", `Something went wrong (request ${requestId}).`), 500);
  });
  return app;
}

/**
 * The Node listener for every API path (the HTTP port and the mTLS port both use it): signed
 * data fetches go to their plain Node handler (see routes/data.ts for why), everything else to
 * the router. One app directory serves both, so disabling an app takes effect at once here.
 */
export function createApiListener(ctx: AppContext): NodeHandler {
  const appDirectory = createAppDirectory({ db: ctx.db, log: ctx.log });
  const router = getRequestListener(createApiRouter(ctx, appDirectory).fetch);
  const dataFetch = createDataEndpoint(ctx, appDirectory);
  const headers = createSecurityHeaders({ isDev: ctx.config.isDev, publicUrl: ctx.config.publicUrl });
  return async (req, res) => {
    // Already done for the main port (server/app.ts); the mTLS port comes straight here.
    ctx.requestIds.assign(req, res);
    headers.applyToApi(res);
    if (req.method === "POST" && isDataFetchPath(requestPath(req))) {
      return dataFetch(req, res);
    }
    return router(req, res);
  };
}
