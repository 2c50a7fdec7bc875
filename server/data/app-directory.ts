/**
 * The apps signed data fetches are verified against, read through a short cache.
 *
 * Rules:
 * - A lookup (found or not) is cached for `cacheMs`, and concurrent lookups of one id
 *   share one query, so a busy partner costs no database read per request.
 * - Disabling or enabling an app through the API calls `forget`, so on the node that
 *   served it the change holds for the very next request. Other nodes, and the CLI
 *   (which writes the database directly), are followed within `cacheMs`.
 * - The cache holds at most `maxEntries` ids (oldest dropped first), so requests naming
 *   random app ids cannot grow it without bound.
 * - lastUsedAt is written at most once per `touchIntervalMs` per app and node, after
 *   the request, never on its path; a failed write is logged and forgotten.
 * - This state lives in the object the API router makes, never at module level.
 */
import type { Logger } from "../logger";
import type { Db } from "../db/client";

export interface AppRecord {
  id: string;
  /** EIP-55 checksummed */
  address: string;
  active: boolean;
  rateLimitPerMinute: number;
}

export interface AppDirectory {
  /** The app, or null when there is none with this id. */
  find(appId: string): Promise<AppRecord | null>;
  /** Drops a cached lookup (after a change to the app). */
  forget(appId: string): void;
  /** Notes a verified request; stamps lastUsedAt when the last stamp is old enough. */
  noteUse(appId: string, now?: number): void;
}

export interface AppDirectoryOptions {
  db: Db;
  log: Logger;
  cacheMs?: number;
  touchIntervalMs?: number;
  maxEntries?: number;
  /** Epoch ms; tests pass a clock they move. */
  now?: () => number;
}

export const APP_CACHE_MS = 2_000;
export const APP_TOUCH_INTERVAL_MS = 60_000;
const MAX_ENTRIES = 10_000;

interface CacheEntry {
  until: number;
  record: Promise<AppRecord | null>;
}

export function createAppDirectory(options: AppDirectoryOptions): AppDirectory {
  const { db, log } = options;
  const cacheMs = options.cacheMs ?? APP_CACHE_MS;
  const touchIntervalMs = options.touchIntervalMs ?? APP_TOUCH_INTERVAL_MS;
  const maxEntries = options.maxEntries ?? MAX_ENTRIES;
  const readNow = options.now ?? Date.now;
  const cache = new Map<string, CacheEntry>();
  const lastTouched = new Map<string, number>();

  const load = (appId: string): Promise<AppRecord | null> =>
    db.app.findUnique({
      where: { id: appId },
      select: { id: true, address: true, active: true, rateLimitPerMinute: true },
    });

  return {
    find(appId) {
      const now = readNow();
      const cached = cache.get(appId);
      if (cached && cached.until > now) return cached.record;
      if (cacheMs <= 0) return load(appId);
      const record = load(appId);
      // A failed query is not cached: the next request tries again.
      record.catch(() => {
        if (cache.get(appId)?.record === record) cache.delete(appId);
      });
      cache.delete(appId);
      cache.set(appId, { until: now + cacheMs, record });
      if (cache.size > maxEntries) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      return record;
    },

    forget(appId) {
      cache.delete(appId);
    },

    noteUse(appId, now = readNow()) {
      const last = lastTouched.get(appId);
      if (last !== undefined && now - last < touchIntervalMs) return;
      lastTouched.set(appId, now);
      db.app
        .update({ where: { id: appId }, data: { lastUsedAt: new Date(now) }, select: { id: true } })
        .catch((err: unknown) => {
          log.warn({ err, appId }, "could not stamp the app's lastUsedAt");
        });
    },
  };
}
