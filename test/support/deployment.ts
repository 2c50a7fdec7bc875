/**
 * One deployment of app nodes for a test suite: server processes sharing Redis and,
 * optionally, PostgreSQL, as the nodes behind one load balancer do.
 *
 *   const hasServices = await requireDeploymentServices({ postgres: true }); // top level
 *   describe.skipIf(!hasServices)("...", () => {
 *     const deployment = createTestDeployment({ label: "multinode", postgres: true });
 *     let node1: ServerProcess, node2: ServerProcess;
 *     beforeAll(async () => {
 *       await deployment.setUp();
 *       [node1, node2] = await deployment.startNodes(["node 1", "node 2"], { TRUST_PROXY: "true" });
 *     });
 *     afterAll(() => deployment.cleanup(() => closeWhatTheTestsOpened()));
 *   });
 *
 * The rules:
 * - Services: requireDeploymentServices checks that Redis (and PostgreSQL when asked)
 *   answer. Locally a missing one is a printed skip, in CI (CI=true) a failure: see
 *   requireService in services.ts.
 * - Each run makes its own, and cleanup() removes exactly that and nothing else:
 *   - with `postgres`, a database `wl_<label>_<12 random hex>` on TEST_POSTGRES_URL's
 *     server, dropped WITH (FORCE) (only if this run created it);
 *   - a REDIS_PREFIX `test:<uuid>:` (no glob characters), whose keys are SCAN-deleted,
 *     the Socket.IO stream included; keys under other prefixes are never touched;
 *   - a DATA_DIR `wallet-login-<label>-*` in the OS temp folder, removed. All nodes get
 *     this one folder: that is how the nodes of one deployment share the access-token
 *     signing key (DATA_DIR/keys/jwt-es256.json).
 * - Nodes are separate processes (startServerProcesses: on free ports, started again on
 *   others when a port was taken meanwhile); the deployment stops every node it started.
 *   Database clients from connectDatabase() are ended before the database is dropped.
 * - setUp() goes in beforeAll, cleanup() in afterAll. cleanup() runs the suite's own
 *   steps first (closing clients, sockets, proxies, in-process apps), then stops the
 *   nodes, ends the database clients, drops the database, deletes the Redis keys and
 *   removes the folder. It attempts every step even after one fails (also after a
 *   setUp that failed partway) and then throws the failures together.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { startServerProcesses } from "./server-process";
import type { ServerProcess } from "./server-process";
import { hasRedisServer } from "./redis-process";
import { TEST_POSTGRES_URL, TEST_REDIS_URL, deleteRedisKeys, requireService } from "./services";

const portOf = (url: string, fallback: number) => Number(new URL(url).port || fallback);

/**
 * Whether Redis, and with `postgres` PostgreSQL, answer (Redis is asked first). Call it at
 * the top level of the test file and skip the suite on false; in CI it throws instead.
 */
export async function requireDeploymentServices(options: { postgres: boolean }): Promise<boolean> {
  if (!(await requireService("Redis", portOf(TEST_REDIS_URL, 6379)))) return false;
  return !options.postgres || (await requireService("PostgreSQL", portOf(TEST_POSTGRES_URL, 5432)));
}

/**
 * For the suites that kill their own redis-server: whether it is installed and Redis and
 * PostgreSQL answer. Skips the suite (with a warning) when not; in CI it throws instead.
 */
export async function requireOutageServices(suite: string): Promise<boolean> {
  if (!hasRedisServer()) {
    if (process.env.CI === "true") throw new Error(`redis-server is not installed; CI needs it for the ${suite}`);
    console.warn(`skipping the ${suite}: redis-server is not installed`);
    return false;
  }
  return requireDeploymentServices({ postgres: true });
}

/** Polls GET /api/ready until it answers 200; throws after `timeoutMs`. */
export async function waitUntilReady(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${url}/api/ready`, { signal: AbortSignal.timeout(5_000) })
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export interface TestDeploymentOptions {
  /** Names the run's database and data folder, and its teardown error: a-z, 0-9 and _. */
  label: string;
  /** A PostgreSQL database for this run as DATABASE_URL; without it each node uses SQLite under DATA_DIR. */
  postgres: boolean;
}

/** One ServerProcess per name: `[node1, node2] = await startNodes(["node 1", "node 2"])`. */
export type NodesFor<Names extends readonly string[]> = { -readonly [I in keyof Names]: ServerProcess };

export interface TestDeployment {
  /** `test:<uuid>:`, this run's alone. */
  readonly redisPrefix: string;
  /** REDIS_URL and REDIS_PREFIX: known at once, e.g. for in-process apps of the same deployment. */
  readonly redisEnv: Readonly<Record<string, string>>;
  /** After setUp: what every node gets, redisEnv plus DATA_DIR, and DATABASE_URL with `postgres`. */
  readonly env: Readonly<Record<string, string>>;
  /** Creates the database (with `postgres`) and the data folder. */
  setUp(): Promise<void>;
  /**
   * Spawns the nodes together on free ports, with `env` over the deployment's and
   * PUBLIC_URL the first one's address (one public origin, as behind a load balancer),
   * and waits until each is healthy. Started together, they race for the migration and
   * for creating the signing key, as a fresh deployment's nodes do.
   */
  startNodes<const Names extends readonly string[]>(
    names: Names,
    env?: Record<string, string>,
  ): Promise<NodesFor<Names>>;
  /** One node, PUBLIC_URL its own address unless `env` says otherwise. */
  startNode(name: string, env?: Record<string, string>): Promise<ServerProcess>;
  /** A connected client on the run's database (needs `postgres`), ended by cleanup(). */
  connectDatabase(): Promise<pg.Client>;
  /** Runs `suiteSteps` in order, then removes everything the deployment made; see the rules above. */
  cleanup(...suiteSteps: Array<() => unknown>): Promise<void>;
}

export function createTestDeployment(options: TestDeploymentOptions): TestDeployment {
  const { label } = options;
  if (!/^[a-z0-9_]{1,30}$/.test(label)) throw new Error(`deployment label must be 1-30 of a-z, 0-9, _: ${label}`);
  const databaseName = options.postgres ? `wl_${label}_${randomBytes(6).toString("hex")}` : undefined;
  const redisPrefix = `test:${randomUUID()}:`;
  const redisEnv = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: redisPrefix };

  let admin: pg.Client | undefined;
  let isDatabaseCreated = false;
  let databaseUrl: string | undefined;
  let dataDir: string | undefined;
  let env: Record<string, string> | undefined;
  const nodes: ServerProcess[] = [];
  const databaseClients: pg.Client[] = [];

  async function startNodes<const Names extends readonly string[]>(
    names: Names,
    extraEnv: Record<string, string> = {},
  ): Promise<NodesFor<Names>> {
    if (!env) throw new Error("start nodes after deployment.setUp()");
    const deploymentEnv = env;
    const started = await startServerProcesses(names, (ports) => ({
      ...deploymentEnv,
      PUBLIC_URL: `http://127.0.0.1:${ports[0]}`,
      ...extraEnv,
    }));
    nodes.push(...started);
    return started as NodesFor<Names>;
  }

  return {
    redisPrefix,
    redisEnv,

    get env() {
      if (!env) throw new Error("deployment.env is known after deployment.setUp()");
      return env;
    },

    async setUp() {
      if (databaseName) {
        admin = new pg.Client({ connectionString: TEST_POSTGRES_URL });
        admin.on("error", () => {});
        await admin.connect();
        await admin.query(`CREATE DATABASE "${databaseName}"`);
        isDatabaseCreated = true;
        const url = new URL(TEST_POSTGRES_URL);
        url.pathname = `/${databaseName}`;
        databaseUrl = url.href;
      }
      dataDir = await mkdtemp(path.join(tmpdir(), `wallet-login-${label}-`));
      env = { ...redisEnv, DATA_DIR: dataDir, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) };
    },

    startNodes,

    async startNode(name, extraEnv = {}) {
      const [node] = await startNodes([name], extraEnv);
      return node;
    },

    async connectDatabase() {
      if (!databaseUrl) throw new Error("connectDatabase needs postgres: true and deployment.setUp()");
      const client = new pg.Client({ connectionString: databaseUrl });
      client.on("error", () => {});
      databaseClients.push(client);
      await client.connect();
      return client;
    },

    async cleanup(...suiteSteps) {
      const failures: unknown[] = [];
      const attempt = async (step: () => unknown) => {
        try {
          await step();
        } catch (error) {
          failures.push(error);
        }
      };
      for (const step of suiteSteps) await attempt(step);
      await attempt(() => Promise.all(nodes.splice(0).map((node) => node.stop(5_000))));
      for (const client of databaseClients.splice(0)) await attempt(() => client.end());
      if (isDatabaseCreated) {
        await attempt(async () => {
          await admin!.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
          isDatabaseCreated = false;
        });
      }
      await attempt(async () => admin?.end());
      admin = undefined;
      await attempt(() => deleteRedisKeys(TEST_REDIS_URL, redisPrefix));
      if (dataDir) {
        const folder = dataDir;
        await attempt(() => rm(folder, { recursive: true, force: true }));
      }
      if (failures.length > 0) throw new AggregateError(failures, `${label} teardown failed`);
    },
  };
}
