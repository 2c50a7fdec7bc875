import { Hono } from "hono";
import type { Context } from "hono";
import { appIdSchema, createAppBodySchema } from "../../../lib/protocol/data-schemas";
import type { AppResponse, CreateAppResponse, ListAppsResponse } from "../../../lib/protocol/data";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { logOfBindings } from "../request-id";
import { readJsonBody } from "../body";
import { allowOrigins } from "../cors";
import { requireAccessToken } from "../require-access-token";
import { createApp, listAppsOfOwner, setAppActive, toAppSummary } from "../../data/apps";
import type { AppDirectory } from "../../data/app-directory";

const NO_STORE = { "Cache-Control": "no-store" };

export type AppRouteDeps = Pick<AppContext, "config" | "db" | "log" | "signingKey" | "requestIds">;

/**
 * Partner apps, for their owner (a Bearer access token): register, list, disable,
 * enable. A generated private key is in the create answer only (no-store), never
 * stored or logged.
 */
export function createAppRoutes(ctx: AppRouteDeps, apps: AppDirectory) {
  const routes = new Hono<ApiEnv>();
  routes.use("*", allowOrigins(ctx.config.allowedOrigins));
  routes.use("*", requireAccessToken(ctx));

  routes.post("/", async (c) => {
    const body = await readJsonBody(c, createAppBodySchema);
    if (!body.ok) return body.response;
    const created = await createApp(ctx.db, {
      name: body.data.name,
      address: body.data.address,
      ownerUserId: c.var.auth.userId,
      maxPerOwner: ctx.config.maxAppsPerUser,
    });
    if (!created.ok) return sendError(c, created.code);
    logOfBindings(ctx.requestIds, ctx.log, c.env).info(
      {
        event: "app_created",
        appId: created.app.id,
        address: created.app.address,
        isKeyGenerated: !!created.privateKey,
      },
      "partner app registered",
    );
    const answer: CreateAppResponse = { app: toAppSummary(created.app) };
    if (created.privateKey !== undefined) answer.privateKey = created.privateKey;
    return c.json(answer, 201, NO_STORE);
  });

  routes.get("/", async (c) => {
    const owned = await listAppsOfOwner(ctx.db, c.var.auth.userId);
    const answer: ListAppsResponse = { apps: owned.map(toAppSummary) };
    return c.json(answer, 200, NO_STORE);
  });

  const setActive = (isActive: boolean) => async (c: Context<ApiEnv>) => {
    const id = appIdSchema.safeParse(c.req.param("id"));
    if (!id.success) return sendError(c, "not_found");
    const result = await setAppActive(ctx.db, id.data, isActive, c.var.auth.userId);
    if (!result.ok) return sendError(c, result.code);
    apps.forget(id.data);
    logOfBindings(ctx.requestIds, ctx.log, c.env).info(
      { event: isActive ? "app_enabled" : "app_disabled", appId: id.data },
      "partner app changed",
    );
    const answer: AppResponse = { app: toAppSummary(result.app) };
    return c.json(answer, 200, NO_STORE);
  };
  routes.post("/:id/disable", setActive(false));
  routes.post("/:id/enable", setActive(true));

  return routes;
}
