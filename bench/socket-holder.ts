/**
 * A child of the memory benchmark: opens `count` idle Socket.IO websocket connections to `url`
 * in batches (each doing `login:start` when asked), reports over IPC, holds them until told to
 * close, then exits. Bounded: it exits by itself after `maxLifetimeMs` or when its parent goes.
 *
 * Options come as one JSON argument: {url, count, batch, loginStart, maxLifetimeMs}.
 */
import { io, type Socket } from "socket.io-client";
import type { ClientToServerEvents, ServerToClientEvents } from "../lib/protocol/login";
import { countError as countErrorIn } from "./stats";

export interface HolderOptions {
  url: string;
  count: number;
  batch: number;
  loginStart: boolean;
  maxLifetimeMs: number;
}

export interface HolderReport {
  type: "ready";
  connected: number;
  started: number;
  errors: Record<string, number>;
  elapsedMs: number;
}

type ClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

const options = JSON.parse(process.argv[2] ?? "{}") as HolderOptions;
const sockets: ClientSocket[] = [];
const errors: Record<string, number> = {};
const countError = (kind: string) => countErrorIn(errors, kind);

const lifetime = setTimeout(() => {
  console.error(`socket-holder: still running after ${options.maxLifetimeMs} ms, exiting`);
  process.exit(2);
}, options.maxLifetimeMs);
process.on("disconnect", () => process.exit(0));

function openOne(): Promise<{ isConnected: boolean; isStarted: boolean }> {
  return new Promise((resolve) => {
    const socket: ClientSocket = io(options.url, {
      transports: ["websocket"],
      forceNew: true,
      reconnection: false,
      timeout: 20_000,
    });
    sockets.push(socket);
    socket.once("connect_error", (err) => {
      countError(`connect_error: ${err.message}`);
      resolve({ isConnected: false, isStarted: false });
    });
    socket.once("connect", () => {
      if (!options.loginStart) return resolve({ isConnected: true, isStarted: false });
      socket
        .timeout(20_000)
        .emitWithAck("login:start", {})
        .then(
          (ack) => {
            if (!ack.ok) countError(`login:start ${ack.error.code}`);
            resolve({ isConnected: true, isStarted: ack.ok });
          },
          () => {
            countError("login:start timeout");
            resolve({ isConnected: true, isStarted: false });
          },
        );
    });
  });
}

const started = performance.now();
let connected = 0;
let loginStarts = 0;
for (let done = 0; done < options.count;) {
  const size = Math.min(options.batch, options.count - done);
  const results = await Promise.all(Array.from({ length: size }, openOne));
  for (const r of results) {
    if (r.isConnected) connected++;
    if (r.isStarted) loginStarts++;
  }
  done += size;
}
sockets.forEach((socket) =>
  socket.on("disconnect", (reason) => {
    if (reason !== "io client disconnect") countError(`disconnect: ${reason}`);
  }),
);

const report: HolderReport = {
  type: "ready",
  connected,
  started: loginStarts,
  errors,
  elapsedMs: Math.round(performance.now() - started),
};
process.send?.(report);

process.on("message", (msg: unknown) => {
  if ((msg as { type?: string }).type !== "close") return;
  // Errors while holding (an unexpected disconnect) count too.
  process.send?.({ type: "closed", errors });
  for (const socket of sockets) socket.disconnect();
  clearTimeout(lifetime);
  // Give the close frames a moment to leave before the process goes.
  setTimeout(() => process.exit(0), 200);
});
