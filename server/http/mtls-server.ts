/*
 * The server API (`/apps/*`, docs/protocol.md section 2) also over HTTPS with mutual TLS, on
 * its own port (SERVER_API_MTLS_PORT), for partners' servers inside a private network.
 *
 * Rules:
 * - The TLS handshake requires a client certificate signed by SERVER_API_MTLS_CA
 *   (requestCert + rejectUnauthorized): without one, nothing reaches the router.
 * - Only `/apps/*` and `/api/health` are served here; anything else is 404. Requests go
 *   to the same router as on the main port, so signing and limits are unchanged.
 * - cert, key and ca are PEM text (`\n` escapes allowed) or file paths.
 */
import { readFile } from "node:fs/promises";
import { createServer, type Server } from "node:https";
import type { IncomingMessage, ServerResponse } from "node:http";
import { errorBody } from "./respond";
import { listenOn, type ListeningServer } from "./listen";
import type { Logger } from "../logger";

export interface MtlsServerOptions {
  port: number;
  host: string;
  cert: string;
  key: string;
  ca: string;
}

export type RunningMtlsServer = ListeningServer<Server>;

type Listener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** PEM text as it is, or the contents of the file it names. */
export async function readPemOrFile(value: string): Promise<string> {
  if (value.includes("-----BEGIN")) return value.replace(/\\n/g, "\n");
  return readFile(value, "utf8");
}

/** Whether the mTLS port serves this path. */
export function isMtlsPath(pathname: string): boolean {
  return pathname.startsWith("/apps/") || pathname === "/api/health";
}

export async function startMtlsServer(
  options: MtlsServerOptions,
  api: Listener,
  log: Logger,
  decorate?: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<RunningMtlsServer> {
  const [cert, key, ca] = await Promise.all([options.cert, options.key, options.ca].map(readPemOrFile));
  const server = createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: true }, (req, res) => {
    const url = req.url ?? "/";
    const pathEnd = url.indexOf("?");
    const pathname = pathEnd === -1 ? url : url.slice(0, pathEnd);
    if (!isMtlsPath(pathname)) {
      // The API listener puts the headers every answer carries on its own answers; this one needs them too.
      decorate?.(req, res);
      res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify(errorBody("not_found")));
      return;
    }
    Promise.resolve(api(req, res)).catch((err: unknown) => {
      log.error({ err, path: pathname }, "mtls api handler failed");
      if (!res.headersSent) res.writeHead(500).end();
    });
  });
  server.on("tlsClientError", (err) => log.debug({ err: err.message }, "mtls handshake refused"));
  return listenOn(server, options.port, options.host, "https");
}
