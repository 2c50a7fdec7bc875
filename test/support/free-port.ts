/**
 * Free ports for servers whose address must be known before they start (PUBLIC_URL names
 * it). A port is chosen outside the kernel's ephemeral range (ip_local_port_range), which
 * is where port-0 listeners and every outgoing connection get theirs: on a machine opening
 * thousands of sockets, a probed ephemeral port is soon someone's again, one outside that
 * range only when another process picks the same number on purpose. Servers are still
 * started through retryOnAddressInUse (or startServerProcesses) for that case.
 *
 * `node --import tsx test/support/free-port.ts N` prints N distinct free ports.
 */
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { fileURLToPath } from "node:url";

const LOWEST = 10_000;

/** The ports to choose from: below the ephemeral range (or above it when that leaves more). */
function choosableRange(): [number, number] {
  const [low, high] = readEphemeralRange();
  return low - LOWEST >= 65_535 - high ? [LOWEST, low - 1] : [high + 1, 65_535];
}

function readEphemeralRange(): [number, number] {
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    if (low && high) return [low, high];
  } catch {
    // not Linux
  }
  // IANA's dynamic range, the usual one elsewhere.
  return [49_152, 65_535];
}

const listen = (port: number) =>
  new Promise<Server | undefined>((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(undefined));
    server.listen(port, "127.0.0.1", () => resolve(server));
  });

/** `count` distinct ports that were free a moment ago (held together while chosen). */
export async function findFreePorts(count: number): Promise<number[]> {
  const [low, high] = choosableRange();
  const held: Server[] = [];
  try {
    for (let tries = 0; held.length < count; tries++) {
      if (tries > 200) throw new Error(`no ${count} free ports in ${low}-${high}`);
      const server = await listen(low + Math.floor(Math.random() * (high - low + 1)));
      if (server) held.push(server);
    }
    return held.map((server) => (server.address() as { port: number }).port);
  } finally {
    await Promise.all(held.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

export async function findFreePort(): Promise<number> {
  const [port] = await findFreePorts(1);
  return port!;
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
 * choice and the bind (EADDRINUSE). Other errors are thrown.
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

if (process.argv[1] !== undefined && process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write((await findFreePorts(Number(process.argv[2] ?? 1))).join(" "));
}
