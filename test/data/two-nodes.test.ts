/**
 * Signed data fetches on two app nodes sharing Redis and PostgreSQL, as separate
 * processes: a signature accepted by one node is refused as `replayed` by the other
 * (the replay cache is one Redis SET NX per signature), also when both get it at the
 * same moment; apps registered on one node are served by the other, reading
 * PostgreSQL. The deployment is set up as in test/multi-node/two-nodes.test.ts: one
 * database and one REDIS_PREFIX for this run, removed at the end, and one DATA_DIR
 * (the shared token signing key).
 *
 * Requires Redis and PostgreSQL: skipped with a printed reason locally when either is
 * down, a failure in CI.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, hashMessage } from "ethers";
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CreateAppResponse } from "../../lib/protocol/data";
import { createDataClient } from "../../lib/sdk/data-client";
import { findFreePort } from "../support/free-port";
import { spawnServerProcess } from "../support/server-process";
import type { ServerProcess } from "../support/server-process";
import { TEST_POSTGRES_URL, TEST_REDIS_URL, requireService } from "../support/services";
import { expectError, logIn, postJson } from "../protocol/helpers";

const portOf = (url: string, fallback: number) => Number(new URL(url).port || fallback);
const hasServices =
  (await requireService("Redis", portOf(TEST_REDIS_URL, 6379))) &&
  (await requireService("PostgreSQL", portOf(TEST_POSTGRES_URL, 5432)));

describe.skipIf(!hasServices)("signed data fetches on two nodes sharing Redis and PostgreSQL", () => {
  const runId = randomBytes(6).toString("hex");
  const databaseName = `wl_data_${runId}`;
  const redisPrefix = `test:${randomUUID()}:`;
  let dataDir: string | undefined;
  let admin: pg.Client | undefined;
  let isDatabaseCreated = false;
  const nodes: ServerProcess[] = [];
  let node1: ServerProcess;
  let node2: ServerProcess;
  let appId: string;
  let privateKey: string;
  let ownerAddress: string;

  beforeAll(async () => {
    admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
    admin.on("error", () => {});
    await admin.connect();
    await admin.query(`CREATE DATABASE "${databaseName}"`);
    isDatabaseCreated = true;
    const databaseUrl = new URL(TEST_POSTGRES_URL);
    databaseUrl.pathname = `/${databaseName}`;
    dataDir = await mkdtemp(path.join(tmpdir(), "wallet-login-data-nodes-"));
    const [port1, port2] = [await findFreePort(), await findFreePort()];
    const shared = {
      PUBLIC_URL: `http://127.0.0.1:${port1}`,
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl.href,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: redisPrefix,
    };
    node1 = spawnServerProcess("node 1", port1, shared);
    nodes.push(node1);
    node2 = spawnServerProcess("node 2", port2, shared);
    nodes.push(node2);
    await Promise.all([node1.waitUntilHealthy(), node2.waitUntilHealthy()]);

    // The owner signs in on node 1 and registers the app there.
    const { redeemed } = await logIn(node1.url);
    ownerAddress = redeemed.user.address;
    const created = await postJson<CreateAppResponse>(
      `${node1.url}/api/apps`,
      { name: "Two nodes" },
      { authorization: `Bearer ${redeemed.accessToken}` },
    );
    expect(created.status).toBe(201);
    appId = created.body.app.id;
    privateKey = created.body.privateKey!;
  });

  afterAll(async () => {
    const failures: unknown[] = [];
    const attempt = async (step: () => Promise<unknown>) => {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    };
    await attempt(() => Promise.all(nodes.map((node) => node.stop(5_000))));
    if (isDatabaseCreated) {
      await attempt(() => admin!.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`));
    }
    await attempt(async () => admin?.end());
    await attempt(async () => {
      const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 2 });
      try {
        let cursor = "0";
        do {
          const [next, keys] = await redis.scan(cursor, "MATCH", `${redisPrefix}*`, "COUNT", 200);
          cursor = next;
          if (keys.length > 0) await redis.del(...keys);
        } while (cursor !== "0");
      } finally {
        redis.disconnect();
      }
    });
    if (dataDir) await attempt(() => rm(dataDir!, { recursive: true, force: true }));
    if (failures.length > 0) throw new AggregateError(failures, "teardown failed");
  });

  function signedBody() {
    const now = Math.floor(Date.now() / 1000);
    const message = { appId, iat: now, exp: now + 120, nonce: randomUUID(), metaData: { limit: 10, page: 1 } };
    const text = JSON.stringify(message);
    return { message, fyresign: new Wallet(privateKey).signMessageSync(text), messageHash: hashMessage(text) };
  }

  it("serves an app registered on node 1 from node 2, reading PostgreSQL", async () => {
    const client = createDataClient({ endpoint: node2.url, appId, privateKey });
    const users = await client.fetch("users");
    expect(users.data.map((user) => user.address)).toEqual([ownerAddress]);
    expect(users.meta).toEqual({ page: 1, limit: 20, total: 1, pages: 1 });
    const logins = await client.fetch("logins");
    expect(logins.data.map((login) => login.address)).toEqual([ownerAddress]);
  });

  it("refuses on node 2 a signature node 1 accepted, and the other way round", async () => {
    const first = signedBody();
    expect((await postJson(`${node1.url}/api/data/users`, first)).status).toBe(200);
    expectError(await postJson(`${node2.url}/api/data/users`, first), 401, "replayed");

    const second = signedBody();
    expect((await postJson(`${node2.url}/api/data/logins`, second)).status).toBe(200);
    expectError(await postJson(`${node1.url}/api/data/logins`, second), 401, "replayed");
  });

  it("accepts one of the same signature sent to both nodes at once", async () => {
    for (let round = 0; round < 5; round++) {
      const body = signedBody();
      const answers = await Promise.all(
        [node1, node2, node1, node2].map((node) => postJson(`${node.url}/api/data/users`, body)),
      );
      const statuses = answers.map((answer) => answer.status).sort();
      expect(statuses).toEqual([200, 401, 401, 401]);
      for (const answer of answers.filter((a) => a.status === 401)) expectError(answer, 401, "replayed");
    }
  });
});
