/**
 * Caps (issue 11): sockets per client IP, counted across nodes with Redis and robust to a node
 * that died (its counts stop counting once its lease is gone), refused with connect_error
 * `too_many_connections`; partner apps per user, refused with 403 `too_many_apps`, also when
 * the creates race.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Socket } from "socket.io-client";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { TEST_POSTGRES_URL, TEST_REDIS_URL, deleteRedisKeys, requireService } from "../support/services";
import { connectSocket, expectError, postJson } from "../protocol/helpers";
import { signInUser } from "../channels/helpers";

const hasRedis = await requireService("Redis", Number(new URL(TEST_REDIS_URL).port || 6379));
const apps: TestApp[] = [];
const sockets: Socket[] = [];

afterEach(() => {
  for (const socket of sockets.splice(0)) socket.disconnect();
});
afterAll(async () => {
  for (const app of apps) await app.stop();
});

async function start(env: Record<string, string>) {
  const app = await startTestApp(env);
  apps.push(app);
  return app;
}

/** A connection, or the code of the connect_error that refused it. */
async function tryConnect(baseUrl: string): Promise<{ ok: true; socket: Socket } | { ok: false; code: unknown }> {
  try {
    const { socket } = await connectSocket(baseUrl);
    sockets.push(socket as unknown as Socket);
    return { ok: true, socket: socket as unknown as Socket };
  } catch (error) {
    return { ok: false, code: (error as { data?: { code?: string } }).data?.code };
  }
}

/** Connects until it is let in: the released count arrives after the close, in its own time. */
async function connectOnceReleased(baseUrl: string) {
  for (let attempt = 0; attempt < 50; attempt++) {
    const result = await tryConnect(baseUrl);
    if (result.ok) return result.socket;
    expect(result.code).toBe("too_many_connections");
  }
  throw new Error("the released socket was never uncounted");
}

describe.each([
  ["memory stores", {}],
  ...(hasRedis ? [["redis stores", { REDIS_URL: TEST_REDIS_URL }] as const] : []),
] as Array<[string, Record<string, string>]>)("sockets per IP (%s)", (_name, env) => {
  it("refuses the connection over the limit and lets one in again after a socket left", async () => {
    const app = await start({ ...env, MAX_SOCKETS_PER_IP: "3" });
    const opened = [];
    for (let i = 0; i < 3; i++) {
      const result = await tryConnect(app.baseUrl);
      expect(result.ok).toBe(true);
      if (result.ok) opened.push(result.socket);
    }
    expect(await tryConnect(app.baseUrl)).toEqual({ ok: false, code: "too_many_connections" });
    opened[0]!.disconnect();
    await connectOnceReleased(app.baseUrl);
    expect(await tryConnect(app.baseUrl)).toEqual({ ok: false, code: "too_many_connections" });
  });
});

describe.skipIf(!hasRedis)("sockets per IP across two nodes (Redis)", () => {
  it("counts both nodes' sockets, and stops counting a node whose lease is gone", async () => {
    const prefix = `test:${randomUUID()}:`;
    const shared = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix, MAX_SOCKETS_PER_IP: "3" };
    const redis = new Redis(TEST_REDIS_URL);
    try {
      const [node1, node2] = [await start(shared), await start(shared)];
      expect((await tryConnect(node1.baseUrl)).ok).toBe(true);
      expect((await tryConnect(node2.baseUrl)).ok).toBe(true);
      expect((await tryConnect(node1.baseUrl)).ok).toBe(true);
      expect(await tryConnect(node2.baseUrl)).toEqual({ ok: false, code: "too_many_connections" });
      expect(await tryConnect(node1.baseUrl)).toEqual({ ok: false, code: "too_many_connections" });

      // A node that died with 50 sockets counted: no lease, so its count goes at the next connect.
      const key = `${prefix}conns-ip:127.0.0.1`;
      for (const socket of sockets.splice(0)) socket.disconnect();
      await connectOnceReleased(node1.baseUrl);
      await redis.hset(key, "dead-node", "50");
      expect((await tryConnect(node2.baseUrl)).ok).toBe(true);
      expect(await redis.hexists(key, "dead-node")).toBe(0);
    } finally {
      await redis.quit();
      await deleteRedisKeys(TEST_REDIS_URL, prefix);
    }
  });
});

const hasPostgres = await requireService("PostgreSQL", Number(new URL(TEST_POSTGRES_URL).port || 5432));

/** A database of its own on the shared PostgreSQL server, dropped after the file. */
async function createPostgresDatabase(): Promise<string> {
  const name = `wl_caps_${randomUUID().replaceAll("-", "")}`;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE "${name}"`);
  } finally {
    await admin.end();
  }
  databases.push(name);
  const url = new URL(TEST_POSTGRES_URL);
  url.pathname = `/${name}`;
  return url.href;
}
const databases: string[] = [];
afterAll(async () => {
  if (databases.length === 0) return;
  const admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
  await admin.connect();
  try {
    for (const name of databases) await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
});

describe.each([["SQLite"], ...(hasPostgres ? [["PostgreSQL"]] : [])])("partner apps per user (%s)", (database) => {
  it("refuses the app over MAX_APPS_PER_USER with 403 too_many_apps, also when creates race", async () => {
    const databaseEnv: Record<string, string> =
      database === "PostgreSQL" ? { DATABASE_URL: await createPostgresDatabase() } : {};
    const app = await start({ ...databaseEnv, MAX_APPS_PER_USER: "3" });
    const user = await signInUser(app.baseUrl);
    const headers = { authorization: `Bearer ${user.accessToken}`, origin: app.baseUrl };
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => postJson(`${app.baseUrl}/api/apps`, { name: `app ${i}` }, headers)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([201, 201, 201, 403, 403, 403]);
    for (const refused of results.filter((r) => r.status === 403)) expectError(refused, 403, "too_many_apps");
    const listed = await fetch(`${app.baseUrl}/api/apps`, { headers });
    expect(((await listed.json()) as { apps: unknown[] }).apps).toHaveLength(3);
    // Another user has their own allowance.
    const other = await signInUser(app.baseUrl);
    const created = await postJson(
      `${app.baseUrl}/api/apps`,
      { name: "theirs" },
      { authorization: `Bearer ${other.accessToken}`, origin: app.baseUrl },
    );
    expect(created.status).toBe(201);
  });
});
