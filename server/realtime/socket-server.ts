import type { Server as HttpServer } from "node:http";
import { randomInt } from "node:crypto";
import { Server } from "socket.io";
import { Redis } from "ioredis";
import { createAdapter } from "@socket.io/redis-streams-adapter";
import type { SocketClientToServerEvents, SocketServerToClientEvents } from "../../lib/protocol/socket-events";
import type { Config } from "../config";
import { resolveClientIp } from "../http/client-ip";
import { chooseRequestId } from "../http/request-id";
import type { Logger } from "../logger";
import { fastFailRedisOptions } from "../store/redis";

export interface SocketData {
  /** Pusher-style `\d+\.\d+`, used for channel auth. */
  socketId: string;
  ip: string;
  /** epoch ms of this socket's recent `login:start`s, for its own rate limit. */
  starts: number[];
  /** From its handshake: the trusted proxy's X-Request-Id, or a new one (server/http/request-id.ts). */
  requestId: string;
  /** Events received so far; event n's request id is `<requestId>.<n>`. */
  events: number;
  /** Set once the socket authenticated as a paired device (device:auth, section 5). */
  device?: { id: string; address: string; userId: string };
  /** The device challenge this socket was given (device:challenge), until used. */
  deviceChallenge?: string;
  /** A device socket's pushes sent and not yet closed, oldest first (push-handlers.ts, trackPushes). */
  pushes?: string[];
}

export type AppSocketServer = Server<
  SocketClientToServerEvents,
  SocketServerToClientEvents,
  Record<string, never>,
  SocketData
>;

/**
 * Socket.IO on /socket.io, websocket transport only (so several nodes need no sticky
 * sessions). With REDIS_URL the Redis Streams adapter carries room emits across nodes.
 */
export async function createSocketServer(
  httpServer: HttpServer,
  config: Config,
  log: Logger,
  generateRequestId: () => string,
  onRedisError: (error: Error) => void = () => {},
) {
  let adapterClient: Redis | undefined;
  const io: AppSocketServer = new Server(httpServer, {
    path: "/socket.io",
    transports: ["websocket"],
    serveClient: false,
    maxHttpBufferSize: 16 * 1024,
    // Other upgrade paths (Next's /_next/hmr) belong to someone else.
    destroyUpgrade: false,
    allowRequest: (req, callback) => {
      const origin = req.headers.origin;
      callback(null, !origin || config.allowedOrigins.includes(origin));
    },
  });
  if (config.redisUrl) {
    adapterClient = createAdapterClient(config.redisUrl, onRedisError);
    io.adapter(createAdapter(adapterClient, { streamName: `${config.redisPrefix}socket.io`, onlyPlaintext: true }));
  }
  io.use((socket, next) => {
    socket.data.ip = resolveClientIp(
      socket.conn.remoteAddress,
      socket.handshake.headers["x-forwarded-for"],
      config.trustedProxies,
    ).slice(0, 64);
    socket.data.socketId = `${randomInt(1, 2 ** 31)}.${randomInt(1, 2 ** 31)}`;
    socket.data.starts = [];
    socket.data.requestId = chooseRequestId(socket.request, config.trustedProxies, generateRequestId);
    socket.data.events = 0;
    next();
  });
  log.info({ adapter: config.redisUrl ? "redis-streams" : "memory" }, "socket.io ready");
  let closing: Promise<void> | undefined;
  return {
    io,
    close() {
      closing ??= new Promise<void>((resolve) => io.close(() => resolve())).then(() => adapterClient?.disconnect());
      return closing;
    },
  };
}

/**
 * The adapter's publishing client fails fast while Redis is away (a room emit then reaches this
 * node's sockets only, see socket.io-adapter's broadcast). The adapter duplicates it for its
 * blocking stream reads and its subscriptions: those keep ioredis's offline queue (a read that
 * failed at once would be retried at once, in a loop) and no command timeout (XREAD BLOCK).
 * Every client has an error listener, so none prints "Unhandled error event".
 */
function createAdapterClient(url: string, onError: (error: Error) => void): Redis {
  const client = new Redis(url, fastFailRedisOptions());
  client.on("error", onError);
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (override) => {
    const copy = duplicate({
      ...override,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
      commandTimeout: undefined,
    });
    copy.on("error", onError);
    return copy;
  };
  return client;
}
