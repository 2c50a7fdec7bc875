import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { findFreePorts, retryOnAddressInUse } from "./free-port";

const listen = (server: Server, port: number) =>
  new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
const close = (server: Server) => new Promise<void>((resolve) => server.close(() => resolve()));

describe("findFreePorts", () => {
  it("gives distinct ports outside the ephemeral range, where outgoing connections never land", async () => {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8").trim().split(/\s+/).map(Number);
    const ports = await findFreePorts(5);
    expect(new Set(ports).size).toBe(5);
    for (const port of ports) expect(port < low! || port > high!).toBe(true);
  });
});

describe("retryOnAddressInUse", () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map(close));
  });

  it("starts again on another port when the probed one was taken before the bind", async () => {
    const tried: number[] = [];
    const server = await retryOnAddressInUse(async (port) => {
      tried.push(port);
      // The first time, another process (here another listener) takes the port first.
      if (tried.length === 1) {
        const intruder = createServer();
        servers.push(intruder);
        await listen(intruder, port);
      }
      const own = createServer();
      try {
        await listen(own, port);
      } catch (error) {
        own.close();
        throw error;
      }
      servers.push(own);
      return own;
    });
    expect(tried).toHaveLength(2);
    expect(server.listening).toBe(true);
  });

  it("throws other errors at once", async () => {
    let calls = 0;
    const failing = retryOnAddressInUse(() => {
      calls++;
      return Promise.reject(new Error("migration failed"));
    });
    await expect(failing).rejects.toThrow("migration failed");
    expect(calls).toBe(1);
  });
});
