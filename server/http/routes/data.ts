import { Hono } from "hono";
import { MAX_DATA_BODY_BYTES, isDataResource } from "../../../lib/protocol/data";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../router";
import { sendError } from "../respond";
import { readBodyText } from "../body";
import type { AppDirectory } from "../../data/app-directory";
import { createPageReader } from "../../data/resources";
import { verifyDataRequest } from "../../data/verify-request";
import type { DataVerifyDeps } from "../../data/verify-request";

/**
 * `POST /api/data/{resource}`: signed data fetches from partner servers (PROTOCOL.md
 * section 3; the rules are in server/data/verify-request.ts). Server to server: no
 * CORS, so a browser page can never use a partner's key through this route. Bodies
 * over MAX_DATA_BODY_BYTES are answered 413 (see ../body.ts).
 */
export function createDataRoutes(ctx: AppContext, apps: AppDirectory) {
  const routes = new Hono<ApiEnv>();
  const pages = createPageReader({ db: ctx.db });
  const deps: DataVerifyDeps = {
    verifier: ctx.verifier,
    apps,
    replayCache: ctx.stores.replayCache,
    rateLimiter: ctx.stores.rateLimiter,
  };

  routes.post("/:resource", async (c) => {
    const resource = c.req.param("resource");
    if (!isDataResource(resource)) return sendError(c, "unknown_resource");
    const read = await readBodyText(c, MAX_DATA_BODY_BYTES);
    if (!read.ok) return sendError(c, read.code);
    let body: unknown;
    try {
      body = JSON.parse(read.text);
    } catch {
      return sendError(c, "invalid_request");
    }
    const result = await verifyDataRequest(deps, body);
    if (!result.ok) {
      ctx.log.debug({ event: "data_fetch_refused", resource, code: result.code }, "signed data fetch refused");
      if (result.code === "rate_limited") {
        return sendError(c, "rate_limited", {
          "Retry-After": String(Math.ceil((result.retryAfterMs ?? 1000) / 1000)),
        });
      }
      return sendError(c, result.code);
    }
    apps.noteUse(result.app.id);
    const text = await pages.readPage(resource, result.message.metaData);
    return c.body(text, 200, { "Content-Type": "application/json", "Cache-Control": "no-store" });
  });

  return routes;
}
