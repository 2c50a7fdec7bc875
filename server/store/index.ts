/**
 * Picks the stores: Redis when a URL is configured (state shared by every node),
 * memory otherwise (one node only). Both keep the same rules; see memory.ts and redis.ts.
 */
import { createMemoryStores } from "./memory";
import { createRedisStores } from "./redis";
import type { Stores } from "./types";

export { createMemoryStores } from "./memory";
export { createRedisClient, createRedisStores } from "./redis";
export type * from "./types";

export async function createStores(opts: {
  redisUrl?: string;
  prefix: string;
  onRedisError?: (error: Error) => void;
}): Promise<Stores> {
  if (opts.redisUrl) return createRedisStores({ url: opts.redisUrl, prefix: opts.prefix, onError: opts.onRedisError });
  return createMemoryStores();
}
