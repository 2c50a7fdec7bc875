/**
 * `POST /api/data/{resource}`: signed data fetches from partner servers (docs/protocol.md
 * section 3; the rules are in server/data/verify-request.ts).
 *
 * Rules:
 * - A plain Node handler, not a Hono route: this is the partners' hot path, and Hono's
 *   context, Response and header conversions cost about a sixth of a fetch on top of the
 *   signature recovery (measured in bench/data-fetch.ts). The API listener
 *   (server/http/router.ts) sends it exactly `POST /api/data/<one segment>`; every other
 *   method or shape goes to the router, which answers 404.
 * - Answers are the API's own: `{"error": {"code", "message"}}` with the status docs/protocol.md
 *   gives, `Retry-After` on 429, and a body over MAX_DATA_BODY_BYTES is answered 413
 *   without reading the rest, on a connection that is then closed.
 * - Server to server: no CORS, so a browser page can never use a partner's key here.
 * - A store or database that does not answer is `unavailable` (503, Retry-After), as in the
 *   router; any other unexpected failure is logged once with a request id and answered with
 *   a generic 500.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { MAX_DATA_BODY_BYTES, isDataResource } from "../../../lib/protocol/data";
import { ERROR_STATUS, type ErrorCode } from "../../../lib/protocol/errors";
import type { AppContext } from "../../context";
import type { AppDirectory } from "../../data/app-directory";
import { createPageReader } from "../../data/resources";
import { verifyDataRequest, type DataVerifyDeps } from "../../data/verify-request";
import { decodeUtf8, readIncomingBody } from "../body";
import { errorBody } from "../respond";
import { RETRY_AFTER_SECONDS, readUnavailableDependency } from "../../availability";

export const DATA_PATH_PREFIX = "/api/data/";

export type NodeHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void>;

function sendJson(res: ServerResponse, status: number, body: string, headers?: Record<string, string>) {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(body);
}

function sendDataError(res: ServerResponse, code: ErrorCode, headers?: Record<string, string>) {
  sendJson(res, ERROR_STATUS[code], JSON.stringify(errorBody(code)), headers);
}

/** Whether `POST <pathname>` (percent-decoded, see requestPath) is a data fetch this handler takes. */
export function isDataFetchPath(pathname: string): boolean {
  return pathname.startsWith(DATA_PATH_PREFIX) && pathname.indexOf("/", DATA_PATH_PREFIX.length) === -1;
}

/** The request's path without its query, percent-decoded as the router decodes it (left as is when malformed). */
export function requestPath(req: IncomingMessage): string {
  const url = req.url ?? "/";
  const pathEnd = url.indexOf("?");
  const path = pathEnd === -1 ? url : url.slice(0, pathEnd);
  if (!path.includes("%")) return path;
  try {
    return decodeURI(path);
  } catch {
    return path;
  }
}

export type DataEndpointDeps = Pick<
  AppContext,
  "db" | "log" | "stores" | "verifier" | "metrics" | "requestIds" | "availability"
>;

export function createDataEndpoint(ctx: DataEndpointDeps, apps: AppDirectory): NodeHandler {
  const pages = createPageReader({ db: ctx.db });
  const deps: DataVerifyDeps = {
    verifier: ctx.verifier,
    apps,
    replayCache: ctx.stores.replayCache,
    readStoreEpoch: () => ctx.stores.readEpoch(),
    rateLimiter: ctx.stores.rateLimiter,
  };

  async function handle(req: IncomingMessage, res: ServerResponse, pathname: string): Promise<void> {
    const resource = pathname.slice(DATA_PATH_PREFIX.length);
    if (!isDataResource(resource)) {
      ctx.metrics.noteDataFetch("unknown_resource");
      return sendDataError(res, "unknown_resource");
    }
    const read = await readIncomingBody(req, MAX_DATA_BODY_BYTES);
    if (!read.ok) {
      ctx.metrics.noteDataFetch(read.code);
      return sendDataError(res, read.code, read.code === "payload_too_large" ? { Connection: "close" } : undefined);
    }
    let body: unknown;
    try {
      body = JSON.parse(decodeUtf8(read.bytes));
    } catch {
      ctx.metrics.noteDataFetch("invalid_request");
      return sendDataError(res, "invalid_request");
    }
    const result = await verifyDataRequest(deps, body);
    if (!result.ok) {
      ctx.metrics.noteDataFetch(result.code);
      // The request's own logger is made only when the line is written (this is the partners' hot path).
      if (ctx.log.isLevelEnabled("debug")) {
        ctx.requestIds
          .logOf(req)
          .debug({ event: "data_fetch_refused", resource, code: result.code }, "signed data fetch refused");
      }
      if (result.code === "rate_limited") {
        ctx.metrics.noteRateLimited("data_app");
        return sendDataError(res, "rate_limited", {
          "Retry-After": String(Math.ceil((result.retryAfterMs ?? 1000) / 1000)),
        });
      }
      return sendDataError(res, result.code);
    }
    apps.noteUse(result.app.id);
    sendJson(res, 200, await pages.readPage(resource, result.message.metaData));
    ctx.metrics.noteDataFetch("ok");
  }

  return async (req, res) => {
    const pathname = requestPath(req);
    try {
      await handle(req, res, pathname);
    } catch (err) {
      const dependency = readUnavailableDependency(err);
      ctx.metrics.noteDataFetch(dependency ? "unavailable" : "internal_error");
      if (dependency) {
        ctx.availability.reportDown(dependency, err);
        if (res.headersSent) res.destroy();
        else sendDataError(res, "unavailable", { "Retry-After": String(RETRY_AFTER_SECONDS) });
        return;
      }
      const requestId = ctx.requestIds.idOf(req);
      ctx.requestIds.logOf(req).error({ err, method: req.method, path: pathname }, "unhandled error");
      if (res.headersSent) {
        res.destroy();
        return;
      }
      sendJson(res, 500, JSON.stringify(errorBody("internal_error", `Something went wrong (request ${requestId}).`)));
    }
  };
}
