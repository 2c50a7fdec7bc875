/**
 * GET /api/attestors/<id>/status-list (docs/protocol.md section 4): the status list token of an
 * attestor hosted here, `application/statuslist+jwt`, `Cache-Control: public, max-age=<ttl>`
 * and an ETag (a conditional request is answered 304). Anyone may fetch it (any origin):
 * verifiers do. An id that names no hosted attestor is `404 not_found`.
 */
import { Hono } from "hono";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { ATTESTOR_ID_PATTERN } from "../../claims/attestor-records";
import {
  STATUS_LIST_MEDIA_TYPE,
  createStatusListPublisher,
  type StatusListPublisher,
} from "../../claims/status-list-token";

export function createStatusListRoutes(
  ctx: Pick<AppContext, "db" | "config">,
  publisher: StatusListPublisher = createStatusListPublisher({
    db: ctx.db,
    dataDir: ctx.config.dataDir,
    publicUrl: ctx.config.publicUrl,
    ttlSeconds: ctx.config.claims.statusListTtlSeconds,
  }),
) {
  const app = new Hono<ApiEnv>();
  app.get("/:id/status-list", async (c) => {
    const id = c.req.param("id");
    if (!ATTESTOR_ID_PATTERN.test(id)) return sendError(c, "not_found");
    const token = await publisher.token(id);
    if (!token) return sendError(c, "not_found");
    const etag = `W/"${token.version.toString(36)}"`;
    const headers = {
      "Content-Type": STATUS_LIST_MEDIA_TYPE,
      "Cache-Control": `public, max-age=${token.ttlSeconds}`,
      ETag: etag,
      "Access-Control-Allow-Origin": "*",
    };
    if (c.req.header("If-None-Match") === etag) return c.body(null, 304, headers);
    return c.body(token.jwt, 200, headers);
  });
  return app;
}
