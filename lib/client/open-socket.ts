import { io } from "socket.io-client";
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";

/** What the login and channels clients share about their connection. */
export interface SocketClientOptions<S extends Socket> {
  /** Origin of the app, e.g. `https://login.example.com`; the page's own origin when left out. */
  endpoint?: string;
  /** A socket to use instead of opening one; the client then leaves it open on close(). */
  socket?: S;
  /** Passed to socket.io-client's `io()` over the defaults (path `/socket.io`, websocket only). */
  io?: Partial<ManagerOptions & SocketOptions>;
}

/**
 * The client's socket: the one it was given, or a new websocket-only connection to the
 * endpoint's origin (io() reads a URL path as a namespace, so only the origin goes there).
 * `endpoint` comes back without a trailing slash; `ownsSocket` says whether to close it.
 */
export function openSocket<S extends Socket>(options: SocketClientOptions<S>) {
  const endpoint = (options.endpoint ?? "").replace(/\/+$/, "");
  const ownsSocket = options.socket === undefined;
  const ioOptions = { path: "/socket.io", transports: ["websocket"], ...options.io };
  const socket = options.socket ?? ((endpoint ? io(new URL(endpoint).origin, ioOptions) : io(ioOptions)) as S);
  return { endpoint, ownsSocket, socket };
}
