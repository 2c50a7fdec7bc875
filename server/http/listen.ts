import type { AddressInfo, Server as NetServer } from "node:net";

export interface ListeningServer<S> {
  server: S;
  /** e.g. http://127.0.0.1:9464 or https://[::1]:3443 */
  url: string;
  /** Stops listening and ends the connections still open. */
  close(): Promise<void>;
}

/** Listens on host:port (0: any free port) and tells the address it got; a listen error rejects. */
export async function listenOn<S extends NetServer & { closeAllConnections(): void }>(
  server: S,
  port: number,
  host: string,
  scheme: "http" | "https",
): Promise<ListeningServer<S>> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return {
    server,
    url: `${scheme}://${hostPart}:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
