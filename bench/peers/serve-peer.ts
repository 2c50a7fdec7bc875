import type { Server } from "node:http";

/**
 * Listens as a bench peer: tells the harness its address over IPC (the message
 * test/support/server-process.ts waits for) and stops on SIGTERM after `onStop`.
 */
export function servePeer(server: Server, host: string, port: number, onStop: () => Promise<unknown>): void {
  server.keepAliveTimeout = 5_000;
  server.listen(port, host, () => {
    const address = server.address();
    const bound = typeof address === "object" && address ? address.port : port;
    process.send?.({ type: "listening", url: `http://${host}:${bound}` });
  });
  process.on("SIGTERM", () => {
    server.close();
    server.closeAllConnections();
    void onStop().finally(() => process.exit(0));
  });
}
