/**
 * The front door: which part of the server a request or an upgrade belongs to, decided from
 * its path alone.
 *
 * Rules:
 * - Paths under /socket.io/ belong to Socket.IO (engine.io takes exactly that prefix): the
 *   app's own request listener never answers them, so nothing is answered twice.
 * - An absolute-form request line (`GET http://host/path HTTP/1.1`) is routed by its path, as
 *   if it were `GET /path`, when its host is PUBLIC_URL's; any other host, an unparsable target
 *   or one that is neither origin- nor absolute-form is refused with 400.
 * - Upgrades not taken by Socket.IO (or, in development, Next's HMR under /_next/) are answered
 *   400 and the socket destroyed at once: a left-open upgrade holds a descriptor for good.
 */
import type { IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";

export const SOCKET_IO_PREFIX = "/socket.io/";

export type RequestTarget = { ok: true; pathname: string } | { ok: false };

/**
 * Checks `req.url` and rewrites an absolute-form target on our host to its origin form in
 * place, so every handler after this sees `/path?query`. `domain` is PUBLIC_URL's host[:port].
 */
export function normalizeRequestTarget(req: IncomingMessage, domain: string): RequestTarget {
  const raw = req.url ?? "";
  if (!raw.startsWith("/")) {
    if (!/^https?:\/\//i.test(raw)) return { ok: false };
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      return { ok: false };
    }
    if (url.host !== domain.toLowerCase() || url.username || url.password) return { ok: false };
    req.url = `${url.pathname}${url.search}`;
  } else if (raw.startsWith("//")) {
    // `//evil.example/x` is a path, but some URL parsers read it as a host: keep it out.
    return { ok: false };
  }
  const url = req.url ?? "/";
  const pathEnd = url.indexOf("?");
  return { ok: true, pathname: pathEnd === -1 ? url : url.slice(0, pathEnd) };
}

export function isSocketIoPath(url: string | undefined): boolean {
  return url !== undefined && url.startsWith(SOCKET_IO_PREFIX);
}

/** Answers an upgrade nobody takes with 400 and frees its socket. */
export function refuseUpgrade(socket: Duplex, headers: ReadonlyArray<readonly [string, string]> = []): void {
  if (socket.destroyed) return;
  // Nobody else listens on an upgraded socket: a client's reset must not become an uncaught error.
  socket.on("error", () => {});
  const body = '{"error":{"code":"invalid_request","message":"No upgrade is served on this path."}}';
  // The server's own headers (security headers, X-Request-Id): no CR or LF can be in them.
  const extra = headers.map(([name, value]) => `${name}: ${value.replace(/[\r\n]/g, "")}\r\n`).join("");
  // As engine.io answers the upgrades it refuses: the write goes out, then the descriptor is freed.
  socket.write(
    `HTTP/1.1 400 Bad Request\r\nConnection: close\r\n${extra}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.destroy();
}
