import type { IncomingMessage } from "node:http";
import { Hono } from "hono";
import type { Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { MAX_DATA_BODY_BYTES, isDataResource } from "../../../lib/protocol/data";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../router";
import { sendError } from "../respond";
import type { AppDirectory } from "../../data/app-directory";
import { createPageReader } from "../../data/resources";
import { verifyDataRequest } from "../../data/verify-request";
import type { DataVerifyDeps } from "../../data/verify-request";

type BodyText = { ok: true; text: string } | { ok: false; code: "payload_too_large" | "invalid_request" };

/**
 * The request body as text, at most `maxBytes`, read straight from Node's request. This is
 * the hot path's reader: it enforces the size itself (content-length first, then while
 * reading, for chunked bodies) instead of the router's body-limit middleware, which builds
 * a full WHATWG Request for every POST. A body that is too large is not read further and
 * its connection is closed after the answer.
 */
function readBodyText(c: Context<ApiEnv>, maxBytes: number): Promise<BodyText> {
  const incoming = (c.env as HttpBindings | undefined)?.incoming as IncomingMessage | undefined;
  if (!incoming) {
    return c.req.text().then(
      (text): BodyText =>
        Buffer.byteLength(text) > maxBytes ? { ok: false, code: "payload_too_large" } : { ok: true, text },
      (): BodyText => ({ ok: false, code: "invalid_request" }),
    );
  }
  const tooLarge = (): BodyText => {
    incoming.pause();
    c.header("Connection", "close");
    return { ok: false, code: "payload_too_large" };
  };
  const declared = incoming.headers["content-length"];
  if (declared !== undefined && Number(declared) > maxBytes) return Promise.resolve(tooLarge());
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (result: BodyText) => {
      incoming.off("data", onData).off("end", onEnd).off("error", onError).off("aborted", onError);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) finish(tooLarge());
      else chunks.push(chunk);
    };
    const onEnd = () => {
      const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
      finish({ ok: true, text: body.toString("utf8") });
    };
    const onError = () => finish({ ok: false, code: "invalid_request" });
    incoming.on("data", onData).on("end", onEnd).on("error", onError).on("aborted", onError);
  });
}

/**
 * `POST /api/data/{resource}`: signed data fetches from partner servers (PROTOCOL.md
 * section 3; the rules are in server/data/verify-request.ts). Server to server: no
 * CORS, so a browser page can never use a partner's key through this route. Bodies
 * over MAX_DATA_BODY_BYTES are answered 413 (see readBodyText).
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
