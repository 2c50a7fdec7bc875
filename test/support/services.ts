import { createConnection } from "node:net";

/** Whether something answers on a TCP port; tests of real services skip (or fail in CI) on no. */
export function isPortOpen(port: number, host = "127.0.0.1", timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host });
    const done = (isOpen: boolean) => {
      socket.destroy();
      resolve(isOpen);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
export const TEST_POSTGRES_URL = process.env.TEST_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/test";

/** In CI a missing service is a failure, locally a printed skip. */
export async function requireService(name: string, port: number): Promise<boolean> {
  if (await isPortOpen(port)) return true;
  if (process.env.CI === "true") throw new Error(`${name} does not answer on 127.0.0.1:${port}; CI needs it`);
  console.warn(`skipping ${name} tests: nothing answers on 127.0.0.1:${port}`);
  return false;
}

/** Deletes every key under `prefix` (SCAN, never KEYS); the prefix must not hold glob characters. */
export async function deleteRedisKeys(url: string, prefix: string): Promise<void> {
  if (/[*?[\]\\]/.test(prefix)) throw new Error(`refusing a Redis prefix with glob characters: ${prefix}`);
  const { Redis } = await import("ioredis");
  const redis = new Redis(url, { maxRetriesPerRequest: 2 });
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 200);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
