import { createConnection, createServer } from "node:net";
import type { Socket } from "node:net";

/**
 * How a cut looks to the proxy's clients:
 * - `reset`: every open connection is destroyed and new ones are dropped at once (a server
 *   that stopped, or a host that answers with RST: the client's connect or read fails now);
 * - `blackhole`: nothing passes any more, in either direction, and nothing is closed (a network
 *   partition or a host that is gone: the client hears nothing until its own timeouts).
 */
export type CutMode = "reset" | "blackhole";

export interface TcpProxy {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  /** Where new connections go from now on; open ones stay with their node until it drops them. */
  setTarget(port: number): void;
  /** Stops the traffic (see CutMode) until restore(). */
  cut(mode: CutMode): void;
  /** Traffic flows again: after a blackhole, what was held goes through late (a partition that heals). */
  restore(): void;
  close(): Promise<void>;
}

/**
 * A minimal TCP load balancer in front of app nodes: every new connection is piped to
 * the current target port on 127.0.0.1. Switching the target and stopping the old node
 * is what a deployment does when a node goes away; clients reconnect to the same
 * address and land on another node. In front of a database, cut() makes it go away.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  let cutMode: CutMode | undefined;
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  /** Connections that came during a blackhole: they reach the target once it is restored. */
  const waiting = new Set<Socket>();
  const link = (pair: { client: Socket; upstream: Socket }) => {
    pair.client.pipe(pair.upstream);
    pair.upstream.pipe(pair.client);
  };
  const connect = (client: Socket) => {
    const pair = { client, upstream: createConnection({ port: target, host: "127.0.0.1" }) };
    pairs.add(pair);
    const drop = () => {
      pair.client.destroy();
      pair.upstream.destroy();
      pairs.delete(pair);
    };
    client.on("error", drop).on("close", drop);
    pair.upstream.on("error", drop).on("close", drop);
    if (cutMode !== "blackhole") link(pair);
  };
  const server = createServer((client) => {
    if (cutMode === "reset") return void client.resetAndDestroy();
    if (cutMode === "blackhole") {
      client.pause();
      waiting.add(client);
      client.on("error", () => client.destroy()).on("close", () => waiting.delete(client));
      return;
    }
    connect(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    setTarget(next) {
      target = next;
    },
    cut(mode) {
      cutMode = mode;
      for (const pair of pairs) {
        if (mode === "reset") {
          pair.client.resetAndDestroy();
          pair.upstream.resetAndDestroy();
        } else {
          // Whatever is under way stays under way, unanswered, until restore().
          for (const socket of [pair.client, pair.upstream]) {
            socket.unpipe();
            socket.pause();
          }
        }
      }
    },
    restore() {
      const wasBlackhole = cutMode === "blackhole";
      cutMode = undefined;
      if (!wasBlackhole) return;
      for (const pair of pairs) link(pair);
      for (const client of waiting) connect(client);
      waiting.clear();
    },
    close() {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      pairs.clear();
      for (const client of waiting) client.destroy();
      waiting.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
