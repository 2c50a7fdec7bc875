/**
 * socket.io-client reconnects by itself after a lost transport, but not after the server's
 * middleware refused the connection (`connect_error` with `socket.active` false): that is
 * final unless the client calls `connect()` again. The server refuses a connection as
 * `unavailable` while its store is away, and as `too_many_connections` at its per-IP cap;
 * both pass, so the project's clients try again by themselves after a growing pause.
 */
import type { Socket } from "socket.io-client";

const RETRY_DELAYS_MS = [1_000, 2_000, 5_000];
const RETRIED_CODES: ReadonlySet<string> = new Set(["unavailable", "too_many_connections"]);

/** Keeps asking while `isWanted()`; returns the stop. */
export function keepConnecting(socket: Socket, isWanted: () => boolean): () => void {
  let failures = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const onError = (error: Error & { data?: { code?: unknown } }) => {
    const code = error.data?.code;
    if (socket.active || !isWanted() || typeof code !== "string" || !RETRIED_CODES.has(code)) return;
    clearTimeout(timer);
    timer = setTimeout(
      () => {
        if (isWanted() && !socket.connected) socket.connect();
      },
      RETRY_DELAYS_MS[Math.min(failures++, RETRY_DELAYS_MS.length - 1)],
    );
  };
  const onConnect = () => {
    failures = 0;
  };
  socket.on("connect_error", onError);
  socket.on("connect", onConnect);
  return () => {
    clearTimeout(timer);
    socket.off("connect_error", onError);
    socket.off("connect", onConnect);
  };
}
