/*
 * `GET /metrics`: the Prometheus text format of ./metrics.ts. Never public.
 *
 * Rules:
 * - On the main port it answers only with `Authorization: Bearer <METRICS_TOKEN>`: a missing
 *   or wrong token is 401 `invalid_token` (compared in constant time, over SHA-256 digests,
 *   so neither its content nor its length leaks). Without METRICS_TOKEN it is 404 there, as
 *   if it did not exist.
 * - METRICS_PORT opens a listener of its own on METRICS_HOST (default 127.0.0.1) that serves
 *   GET /metrics without a token: whoever can reach that address is trusted (a scraper on the
 *   host, or a private network when bound wider). Any other path there is 404.
 * - Only GET and HEAD; other methods are 404 (`not_found`), like unknown paths.
 * - The token is never logged; the request's Authorization header is redacted by the logger.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { ErrorCode } from "../../lib/protocol/errors";
import { ERROR_STATUS } from "../../lib/protocol/errors";
import { timingSafeEqualString } from "../crypto/random";
import { errorBody } from "../http/respond";
import { listenOn, type ListeningServer } from "../http/listen";
import type { Logger } from "../logger";
import type { AppMetrics } from "./metrics";

export const METRICS_PATH = "/metrics";

type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

function sendError(res: ServerResponse, code: ErrorCode, headers: Record<string, string> = {}) {
  const body = JSON.stringify(errorBody(code));
  res.writeHead(ERROR_STATUS[code], {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
    ...headers,
  });
  res.end(body);
}

async function sendMetrics(metrics: AppMetrics, req: IncomingMessage, res: ServerResponse, log: Logger) {
  try {
    const text = await metrics.registry.metrics();
    res.writeHead(200, {
      "Content-Type": metrics.registry.contentType,
      "Content-Length": Buffer.byteLength(text),
      "Cache-Control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : text);
  } catch (err) {
    log.error({ err }, "metrics scrape failed");
    if (!res.headersSent) sendError(res, "internal_error");
  }
}

const BEARER = /^bearer +(\S+) *$/i;

const isReadMethod = (req: IncomingMessage) => req.method === "GET" || req.method === "HEAD";

/** `GET /metrics` on the main port: the bearer token, or 404 when none is configured. */
export function createGuardedMetricsHandler(metrics: AppMetrics, token: string | undefined, log: Logger): NodeListener {
  return (req, res) => {
    if (token === undefined || !isReadMethod(req)) return sendError(res, "not_found");
    // The scheme is case-insensitive (RFC 9110 11.1), as for the API's access tokens.
    const given = BEARER.exec(req.headers.authorization ?? "")?.[1] ?? "";
    if (!timingSafeEqualString(given, token)) {
      return sendError(res, "invalid_token", { "WWW-Authenticate": 'Bearer realm="metrics"' });
    }
    void sendMetrics(metrics, req, res, log);
  };
}

export type RunningMetricsServer = ListeningServer<Server>;

/** The metrics listener of its own (METRICS_PORT): GET /metrics, nothing else. */
export async function startMetricsServer(
  options: { port: number; host: string },
  metrics: AppMetrics,
  log: Logger,
  /** Puts the headers every answer carries (security headers, X-Request-Id) on each answer. */
  decorate?: NodeListener,
): Promise<RunningMetricsServer> {
  const server = createServer((req, res) => {
    decorate?.(req, res);
    const url = req.url ?? "/";
    const pathEnd = url.indexOf("?");
    const pathname = pathEnd === -1 ? url : url.slice(0, pathEnd);
    if (pathname !== METRICS_PATH || !isReadMethod(req)) return sendError(res, "not_found");
    void sendMetrics(metrics, req, res, log);
  });
  return listenOn(server, options.port, options.host, "http");
}
