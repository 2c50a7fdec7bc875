/**
 * Sockets per client IP (MAX_SOCKETS_PER_IP), across every node when Redis is used.
 *
 * Rules:
 * - Counted in the stores (server/store/types.ts ConnectionCounter) under this node's channel
 *   node id, so a node that dies stops counting once its lease lapses.
 * - Refused connections get `connect_error` with `data: {code: "too_many_connections"}`; when
 *   the stores cannot answer, `unavailable` (no connection is let in uncounted).
 * - Released when the engine connection closes, which fires for every socket that was counted,
 *   also one whose client left while the count was being taken (it never "connects").
 * - The client IP is the one server/http/client-ip.ts resolved in the socket server's middleware.
 */
import type { AppContext } from "../context";
import { readUnavailableDependency } from "../availability";
import type { ErrorCode } from "../../lib/protocol/errors";
import { ERROR_MESSAGES } from "../../lib/protocol/errors";

export type ConnectionLimitDeps = Pick<AppContext, "config" | "log" | "stores" | "channels" | "io" | "availability">;

function refusal(code: ErrorCode): Error {
  return Object.assign(new Error(ERROR_MESSAGES[code]), { data: { code, message: ERROR_MESSAGES[code] } });
}

/** Registers the limit as the last middleware (after the one that reads the client IP). */
export function registerConnectionLimit(ctx: ConnectionLimitDeps): void {
  const { config, log, stores, channels, io } = ctx;
  io.use((socket, next) => {
    const ip = socket.data.ip;
    const nodeId = channels.nodeId;
    stores.connections.acquire(ip, nodeId, config.maxSocketsPerIp).then(
      (isAllowed) => {
        if (!isAllowed) {
          log.info({ event: "socket_limit", ip }, "too many sockets from one address");
          next(refusal("too_many_connections"));
          return;
        }
        const release = () => {
          stores.connections.release(ip, nodeId).catch((err: unknown) => {
            log.warn({ err }, "could not release a socket's count");
          });
        };
        if (socket.conn.readyState !== "open") {
          release();
          next(refusal("unavailable"));
          return;
        }
        socket.conn.once("close", release);
        next();
      },
      (err: unknown) => {
        // An outage is logged once, by the availability tracker; anything else here.
        const dependency = readUnavailableDependency(err);
        if (dependency) ctx.availability.reportDown(dependency, err);
        else log.warn({ err }, "socket count unavailable; connection refused");
        next(refusal("unavailable"));
      },
    );
  });
}
