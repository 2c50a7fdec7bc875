import { createServer } from "node:net";

/**
 * A port that was free a moment ago. Another process can take it before the server
 * binds it: start servers through retryOnAddressInUse, or listen on port 0 where the
 * address need not be known in advance.
 */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Whether an error (or a child's output) says the port was taken. */
export function isAddressInUse(error: unknown): boolean {
  if (typeof error === "string") return error.includes("EADDRINUSE");
  if (error instanceof Error) {
    return (error as NodeJS.ErrnoException).code === "EADDRINUSE" || error.message.includes("EADDRINUSE");
  }
  return false;
}

/**
 * Runs `start` on a free port, again on another one when the port was taken between the
 * probe and the bind (EADDRINUSE; a busy machine runs many servers). Other errors are thrown.
 */
export async function retryOnAddressInUse<T>(start: (port: number) => Promise<T>, attempts = 5): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await findFreePort();
    try {
      return await start(port);
    } catch (error) {
      if (attempt >= attempts || !isAddressInUse(error)) throw error;
    }
  }
}
