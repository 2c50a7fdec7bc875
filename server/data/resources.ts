/**
 * The resources a verified partner may read: `users` and `logins`, in a stable order
 * (createdAt / at, then id), `limit` rows from `(page - 1) * limit`.
 *
 * Pages are rendered to JSON once and kept for `cacheMs` per (resource, limit, page)
 * on each node, with concurrent readers of one page sharing one query: partners that
 * poll the same page cost one database read per interval, not one per request. A page
 * may therefore be up to `cacheMs` old. Login IPs are never exposed.
 */
import type { DataItems, DataLogin, DataMetaRequest, DataPage, DataResource, DataUser } from "../../lib/protocol/data";
import type { Db } from "../db/client";

export const DATA_PAGE_CACHE_MS = 1_000;
const MAX_CACHED_PAGES = 1_000;
// OFFSET beyond this is not passed to the database (Prisma takes a 32-bit skip); such a page is empty anyway.
const MAX_OFFSET = 2_000_000_000;

export interface PageReader {
  /** The response body `{data, meta}` as JSON text. */
  readPage(resource: DataResource, meta: DataMetaRequest): Promise<string>;
}

export interface PageReaderOptions {
  db: Db;
  cacheMs?: number;
  /** Epoch ms; tests pass a clock they move. */
  now?: () => number;
}

interface CachedPage {
  until: number;
  body: Promise<string>;
}

export function createPageReader(options: PageReaderOptions): PageReader {
  const { db } = options;
  const cacheMs = options.cacheMs ?? DATA_PAGE_CACHE_MS;
  const readNow = options.now ?? Date.now;
  const cache = new Map<string, CachedPage>();

  const render = async (resource: DataResource, meta: DataMetaRequest) =>
    JSON.stringify(await readDataPage(db, resource, meta));

  return {
    readPage(resource, meta) {
      if (cacheMs <= 0) return render(resource, meta);
      const key = `${resource}:${meta.limit}:${meta.page}`;
      const now = readNow();
      const cached = cache.get(key);
      if (cached && cached.until > now) return cached.body;
      const body = render(resource, meta);
      body.catch(() => {
        if (cache.get(key)?.body === body) cache.delete(key);
      });
      cache.delete(key);
      cache.set(key, { until: now + cacheMs, body });
      if (cache.size > MAX_CACHED_PAGES) {
        const oldest = cache.keys().next();
        if (!oldest.done) cache.delete(oldest.value);
      }
      return body;
    },
  };
}

function toMeta(meta: DataMetaRequest, total: number) {
  return { page: meta.page, limit: meta.limit, total, pages: Math.ceil(total / meta.limit) };
}

export async function readDataPage<R extends DataResource>(
  db: Db,
  resource: R,
  meta: DataMetaRequest,
): Promise<DataPage<DataItems[R]>> {
  const skip = (meta.page - 1) * meta.limit;
  const isBeyond = skip > MAX_OFFSET;
  if (resource === "users") {
    const [rows, total] = await Promise.all([
      isBeyond
        ? []
        : db.user.findMany({
            orderBy: [{ createdAt: "asc" }, { id: "asc" }],
            skip,
            take: meta.limit,
            select: { id: true, address: true, claims: true, createdAt: true, lastLoginAt: true },
          }),
      db.user.count(),
    ]);
    const data: DataUser[] = rows.map((user) => ({
      id: user.id,
      address: user.address,
      claims: isPlainObject(user.claims) ? user.claims : {},
      createdAt: user.createdAt.toISOString(),
      lastLoginAt: user.lastLoginAt?.toISOString() ?? null,
    }));
    return { data, meta: toMeta(meta, total) } as DataPage<DataItems[R]>;
  }
  const [rows, total] = await Promise.all([
    isBeyond
      ? []
      : db.loginEvent.findMany({
          orderBy: [{ at: "asc" }, { id: "asc" }],
          skip,
          take: meta.limit,
          select: {
            id: true,
            userId: true,
            at: true,
            method: true,
            userAgent: true,
            user: { select: { address: true } },
          },
        }),
    db.loginEvent.count(),
  ]);
  const data: DataLogin[] = rows.map((event) => ({
    id: event.id,
    userId: event.userId,
    address: event.user.address,
    at: event.at.toISOString(),
    method: event.method,
    userAgent: event.userAgent,
  }));
  return { data, meta: toMeta(meta, total) } as DataPage<DataItems[R]>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
