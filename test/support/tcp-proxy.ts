import { createConnection, createServer } from "node:net";
import type { Socket } from "node:net";

export interface TcpProxy {
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  port: number;
  /** Where new connections go from now on; open ones stay with their node until it drops them. */
  setTarget(port: number): void;
  close(): Promise<void>;
}

/**
 * A minimal TCP load balancer in front of app nodes: every new connection is piped to
 * the current target port on 127.0.0.1. Switching the target and stopping the old node
 * is what a deployment does when a node goes away; clients reconnect to the same
 * address and land on another node.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  let target = targetPort;
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = createConnection({ port: target, host: "127.0.0.1" });
    open.add(client);
    open.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
    client.pipe(upstream);
    upstream.pipe(client);
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
    close() {
      for (const socket of open) socket.destroy();
      open.clear();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
