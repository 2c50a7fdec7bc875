/**
 * The database check behind GET /api/ready. On PostgreSQL it runs on a connection of its own,
 * not the app's pool: a pool busy with a burst of logins is not a database that is down, and a
 * probe queued behind that burst would take a loaded node out of its balancer. The connection
 * is opened on first use and again after any failure. SQLite is a file: the app's client asks.
 */
import pg from "pg";
import type { Db } from "./client";
import { detectProvider, parsePostgresUrl } from "./migrate";

export interface DatabaseProbe {
  check(): Promise<void>;
  close(): Promise<void>;
}

export function createDatabaseProbe(url: string, prisma: Db, connectTimeoutMs: number): DatabaseProbe {
  if (detectProvider(url) === "sqlite") {
    return {
      async check() {
        await prisma.$queryRawUnsafe("SELECT 1");
      },
      async close() {},
    };
  }
  const { connectionString } = parsePostgresUrl(url);
  let client: pg.Client | undefined;
  const drop = (failed: pg.Client) => {
    if (client === failed) client = undefined;
    failed.end().catch(() => {});
  };
  return {
    async check() {
      let current = client;
      if (!current) {
        const opened = new pg.Client({ connectionString, connectionTimeoutMillis: connectTimeoutMs });
        opened.on("error", () => drop(opened));
        client = opened;
        current = opened;
        try {
          await opened.connect();
        } catch (err) {
          drop(opened);
          throw err;
        }
      }
      try {
        await current.query("SELECT 1");
      } catch (err) {
        drop(current);
        throw err;
      }
    },
    async close() {
      const open = client;
      client = undefined;
      await open?.end().catch(() => {});
    },
  };
}
