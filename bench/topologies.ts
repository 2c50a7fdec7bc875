/**
 * The login benchmark on the production topologies, in one run (docs: bench/README.md, "Production"):
 *
 *   (a) one node, SQLite + memory stores (the embedded default)
 *   (b) one node, PostgreSQL + Redis
 *   (c) two nodes on PostgreSQL + Redis behind HAProxy (websockets and keep-alive through it)
 *
 * each driven by bench/login-load.ts, with the CPU each process spent over the measured window
 * read from /proc: the node processes, the PostgreSQL backends serving the bench's database, the
 * Redis server, the balancer. Per login, so the topologies compare whatever the machine's speed.
 * The nodes run the server compiled to JavaScript, as production does.
 *
 * Then (a) and (b) again, open loop at half the logins/s they completed: the login latency at a
 * load the server carries. (a) gets LATENCY_WINDOWS windows, each followed by one of the bare login
 * peer's at the same rate, so a noisy moment of a shared machine shows as one odd window (the
 * figure is the median window's p99) and the peer shows what the machine takes by itself.
 *
 * The services are the bench's own where that is cheap: a redis-server on a free port (so its CPU is
 * only ours), a database made for the run on the local PostgreSQL (BENCH_POSTGRES_URL, default
 * postgresql://postgres@127.0.0.1:5432/postgres) and dropped at the end, an haproxy on a free port.
 * A topology whose service is missing (no redis-server, haproxy or PostgreSQL) is reported as skipped.
 */
import { spawn, execFile, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import type { LoginLoadOptions, LoginLoadResult } from "./login-load";
import {
  ROOT,
  appServerEnv,
  createTempDir,
  getFreePort,
  readCpuSeconds,
  runGeneratorProcess,
  startServer,
  trackChild,
  type ServerHandle,
} from "./server-process";

const LOAD_SCRIPT = path.join(ROOT, "bench", "login-load.ts");
const ADMIN_URL = process.env.BENCH_POSTGRES_URL ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export type TopologyName = "sqlite-memory" | "postgres-redis" | "two-nodes-balancer";

export const TOPOLOGY_LABELS: Record<TopologyName, string> = {
  "sqlite-memory": "(a) 1 node, SQLite + memory",
  "postgres-redis": "(b) 1 node, PostgreSQL + Redis",
  "two-nodes-balancer": "(c) 2 nodes, PostgreSQL + Redis, HAProxy",
};

export interface TopologyResult {
  name: TopologyName;
  label: string;
  logins: LoginLoadResult;
  /** CPU-ms per complete login over the measured window, by process group (0 where absent). */
  cpuMsPerLogin: { nodes: number; postgres: number; redis: number; balancer: number };
  /** Cores used over the window, by the same groups. */
  cpuCores: { nodes: number; postgres: number; redis: number; balancer: number };
  /** The same server again, open loop at half the logins/s it just completed (the latency figure). */
  halfLoad?: HalfLoadResult;
}

/** How many half-load windows (a) gets, each followed by one of the bare peer's at the same rate. */
export const LATENCY_WINDOWS = 3;

export interface HalfLoadResult {
  ratePerSec: number;
  /** Our server, one result per window. */
  windows: LoginLoadResult[];
  /**
   * bench/peers/bare-login-server.ts at the same rate, its windows alternating with ours: the
   * latency the machine, Node, Socket.IO and the generator take by themselves. Empty for (b).
   */
  bareWindows: LoginLoadResult[];
}

/** The median of the windows' wallet POST -> browser p99 (one noisy window on a shared machine does not decide it). */
export function medianP99(windows: LoginLoadResult[]): number {
  const p99s = windows.filter((w) => w.postToBrowser.count > 0).map((w) => w.postToBrowser.p99);
  p99s.sort((x, y) => x - y);
  return p99s.length === 0 ? 0 : p99s[Math.floor((p99s.length - 1) / 2)]!;
}

export const windowErrors = (windows: LoginLoadResult[]) => windows.reduce((sum, w) => sum + w.errorCount, 0);

export type TopologyOutcome = TopologyResult | { name: TopologyName; label: string; skipped: string };

const execFileAsync = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function hasCommand(command: string): Promise<boolean> {
  try {
    await execFileAsync("sh", ["-c", `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

async function waitForPort(port: number, child: ChildProcess, what: string): Promise<void> {
  const { connect } = await import("node:net");
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}) before it listened`);
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = connect({ host: "127.0.0.1", port });
      socket.once("connect", () => {
        socket.destroy();
        resolve(true);
      });
      socket.once("error", () => resolve(false));
    });
    if (isOpen) return;
    if (Date.now() > deadline) throw new Error(`${what} did not listen on ${port} within 15 s`);
    await sleep(100);
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}

/** A redis-server of the bench's own on a free port, no persistence. */
async function startRedis(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await getFreePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    {
      stdio: "ignore",
    },
  );
  trackChild(child);
  await waitForPort(port, child, "redis-server");
  if (child.pid === undefined) throw new Error("redis-server has no pid");
  return { url: `redis://127.0.0.1:${port}`, pid: child.pid, stop: () => stopChild(child) };
}

/** A database made for this run on the local PostgreSQL; `backendPids` lists the backends serving it. */
async function createBenchDatabase(): Promise<{
  url: string;
  backendPids(): Promise<number[]>;
  drop(): Promise<void>;
}> {
  const name = `wl_bench_${process.pid}_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  admin.on("error", () => {});
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async backendPids() {
      const result = await admin.query<{ pid: number }>("SELECT pid FROM pg_stat_activity WHERE datname = $1", [name]);
      return result.rows.map((row) => row.pid);
    },
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`).catch(() => {});
      await admin.end().catch(() => {});
    },
  };
}

/** HAProxy in front of `ports`: round robin, HTTP keep-alive and websocket upgrades passed through. */
async function startBalancer(port: number, ports: number[]): Promise<{ pid: number; stop(): Promise<void> }> {
  const dir = await createTempDir("haproxy");
  const config = [
    "global",
    "  maxconn 4000",
    "defaults",
    "  mode http",
    "  timeout connect 5s",
    "  timeout client 60s",
    "  timeout server 60s",
    "  timeout tunnel 1h",
    "  option http-keep-alive",
    "frontend app",
    `  bind 127.0.0.1:${port}`,
    "  default_backend nodes",
    "backend nodes",
    "  balance roundrobin",
    ...ports.map((p, i) => `  server node${i + 1} 127.0.0.1:${p}`),
    "",
  ].join("\n");
  const file = path.join(dir, "haproxy.cfg");
  await writeFile(file, config);
  const child = spawn("haproxy", ["-f", file, "-db"], { stdio: "ignore" });
  trackChild(child);
  await waitForPort(port, child, "haproxy");
  if (child.pid === undefined) throw new Error("haproxy has no pid");
  return { pid: child.pid, stop: () => stopChild(child) };
}

async function readCpu(pids: number[]): Promise<Map<number, number>> {
  const readings = new Map<number, number>();
  for (const pid of pids) {
    // A backend that ended meanwhile counts from what it had used.
    const seconds = await readCpuSeconds(pid).catch(() => undefined);
    if (seconds !== undefined) readings.set(pid, seconds);
  }
  return readings;
}

/** CPU seconds used between two readings, pids new at the end counted whole. */
function cpuBetween(start: Map<number, number>, end: Map<number, number>): number {
  let total = 0;
  for (const [pid, seconds] of end) total += seconds - (start.get(pid) ?? 0);
  return total;
}

interface Processes {
  nodes: number[];
  postgres: () => Promise<number[]>;
  redis: number[];
  balancer: number[];
}

export async function measureLogins(
  url: string,
  load: Omit<LoginLoadOptions, "url">,
  processes: Processes,
  profile?: { server: ServerHandle; path: string },
): Promise<Pick<TopologyResult, "logins" | "cpuMsPerLogin" | "cpuCores">> {
  type Snapshot = Record<keyof Omit<Processes, "postgres"> | "postgres", Map<number, number>>;
  const snapshot = async (): Promise<Snapshot> => ({
    nodes: await readCpu(processes.nodes),
    postgres: await readCpu(await processes.postgres()),
    redis: await readCpu(processes.redis),
    balancer: await readCpu(processes.balancer),
  });
  let atStart: Promise<Snapshot> | undefined;
  let atEnd: Promise<Snapshot> | undefined;
  const profileTasks: Array<Promise<void>> = [];
  const logins = await runGeneratorProcess<LoginLoadResult>({
    label: "login load generator",
    script: LOAD_SCRIPT,
    args: [JSON.stringify({ ...load, url })],
    budgetMs: load.warmupMs + load.durationMs + load.drainMs + 60_000,
    onWindow: (phase) => {
      if (phase === "start") {
        atStart = snapshot();
        if (profile) profileTasks.push(profile.server.startProfile());
      } else {
        atEnd = snapshot();
        if (profile) profileTasks.push(profile.server.stopProfile(profile.path));
      }
    },
  });
  await Promise.all(profileTasks);
  if (!atStart || !atEnd) throw new Error("the load generator never reported its measured window");
  const [start, end] = [await atStart, await atEnd];
  const seconds = load.durationMs / 1000;
  const groups = ["nodes", "postgres", "redis", "balancer"] as const;
  const used = Object.fromEntries(groups.map((g) => [g, cpuBetween(start[g], end[g])])) as Record<
    (typeof groups)[number],
    number
  >;
  const perLogin = (cpuSeconds: number) =>
    logins.logins > 0 ? Math.round(((cpuSeconds * 1000) / logins.logins) * 1000) / 1000 : 0;
  const cores = (cpuSeconds: number) => Math.round((cpuSeconds / seconds) * 100) / 100;
  return {
    logins,
    cpuMsPerLogin: {
      nodes: perLogin(used.nodes),
      postgres: perLogin(used.postgres),
      redis: perLogin(used.redis),
      balancer: perLogin(used.balancer),
    },
    cpuCores: {
      nodes: cores(used.nodes),
      postgres: cores(used.postgres),
      redis: cores(used.redis),
      balancer: cores(used.balancer),
    },
  };
}

/**
 * Open loop at half of `capacity` logins/s on the same server: the login latency at a load it
 * carries. With `bare`, `windows` of ours alternate with as many of the bare peer's at the same rate.
 */
async function measureHalfLoad(
  url: string,
  load: Omit<LoginLoadOptions, "url">,
  capacity: number,
  options: { windows: number; bareUrl?: string },
): Promise<HalfLoadResult> {
  const ratePerSec = Math.max(1, Math.round(capacity / 2));
  const openLoop = (target: string, label: string) =>
    runGeneratorProcess<LoginLoadResult>({
      label,
      script: LOAD_SCRIPT,
      args: [JSON.stringify({ ...load, url: target, ratePerSec })],
      budgetMs: load.warmupMs + load.durationMs + load.drainMs + 60_000,
      onWindow: () => {},
    });
  const windows: LoginLoadResult[] = [];
  const bareWindows: LoginLoadResult[] = [];
  for (let i = 0; i < options.windows; i++) {
    windows.push(await openLoop(url, "login load generator (open loop)"));
    if (options.bareUrl)
      bareWindows.push(await openLoop(options.bareUrl, "login load generator (open loop, bare peer)"));
  }
  return { ratePerSec, windows, bareWindows };
}

/**
 * The server the topologies run: compiled to JavaScript as `npm run build` does (into a folder of
 * the bench's own, so a server running from dist/server is left alone), run with plain node.
 */
async function compileServer(): Promise<string> {
  const outdir = path.join("dist", "bench-server");
  await execFileAsync(process.execPath, [path.join(ROOT, "scripts", "build-server.mjs"), outdir], { cwd: ROOT });
  return path.join(outdir, "index.js");
}

function nodeEnv(port: number, dataDir: string, extra: Record<string, string>): Record<string, string> {
  return { ...appServerEnv(port, dataDir, { apiOnly: true }), ...extra };
}

export interface TopologiesOptions {
  load: Omit<LoginLoadOptions, "url">;
  /** Profile node 1 of (b) over its window into this file. */
  cpuProfilePath?: string;
  /** Which topologies to run (default all three). */
  only?: TopologyName[];
  log?: (line: string) => void;
}

export async function benchTopologies(options: TopologiesOptions): Promise<TopologyOutcome[]> {
  const wanted = options.only ?? (Object.keys(TOPOLOGY_LABELS) as TopologyName[]);
  const log = options.log ?? (() => {});
  const outcomes: TopologyOutcome[] = [];
  const skip = (name: TopologyName, why: string) => {
    log(`${TOPOLOGY_LABELS[name]}: skipped (${why})`);
    outcomes.push({ name, label: TOPOLOGY_LABELS[name], skipped: why });
  };

  const serverScript = await compileServer();
  if (wanted.includes("sqlite-memory")) {
    const dataDir = await createTempDir("topology-a");
    const server = await startServer({
      name: "node (SQLite + memory)",
      script: serverScript,
      isApp: true,
      env: (port) => nodeEnv(port, dataDir, {}),
    });
    const bare = await startServer({ name: "bare login peer", script: "bench/peers/bare-login-server.ts" });
    try {
      log(`${TOPOLOGY_LABELS["sqlite-memory"]}...`);
      const measured = await measureLogins(server.url, options.load, {
        nodes: [server.pid],
        postgres: async () => [],
        redis: [],
        balancer: [],
      });
      log(
        `${TOPOLOGY_LABELS["sqlite-memory"]}: open loop at half of ${measured.logins.loginsPerSec}/s, ${LATENCY_WINDOWS} windows alternating with the bare login peer's...`,
      );
      const halfLoad = await measureHalfLoad(server.url, options.load, measured.logins.loginsPerSec, {
        windows: LATENCY_WINDOWS,
        bareUrl: bare.url,
      });
      outcomes.push({ name: "sqlite-memory", label: TOPOLOGY_LABELS["sqlite-memory"], ...measured, halfLoad });
    } finally {
      await Promise.all([server.stop(), bare.stop()]);
    }
  }

  const needsServices = wanted.filter((name) => name !== "sqlite-memory");
  if (needsServices.length === 0) return outcomes;
  if (!(await hasCommand("redis-server"))) {
    for (const name of needsServices) skip(name, "no redis-server on PATH");
    return outcomes;
  }
  let database: Awaited<ReturnType<typeof createBenchDatabase>>;
  try {
    database = await createBenchDatabase();
  } catch (err) {
    for (const name of needsServices) skip(name, `PostgreSQL at ${ADMIN_URL}: ${(err as Error).message}`);
    return outcomes;
  }
  const redis = await startRedis();
  try {
    if (wanted.includes("postgres-redis")) {
      const dataDir = await createTempDir("topology-b");
      const services = { DATABASE_URL: database.url, REDIS_URL: redis.url, REDIS_PREFIX: "bench-b:" };
      const server = await startServer({
        name: "node (PostgreSQL + Redis)",
        script: serverScript,
        isApp: true,
        env: (port) => nodeEnv(port, dataDir, services),
      });
      try {
        log(`${TOPOLOGY_LABELS["postgres-redis"]}...`);
        const measured = await measureLogins(
          server.url,
          options.load,
          { nodes: [server.pid], postgres: database.backendPids, redis: [redis.pid], balancer: [] },
          options.cpuProfilePath ? { server, path: options.cpuProfilePath } : undefined,
        );
        log(`${TOPOLOGY_LABELS["postgres-redis"]}: open loop at half of ${measured.logins.loginsPerSec}/s...`);
        const halfLoad = await measureHalfLoad(server.url, options.load, measured.logins.loginsPerSec, { windows: 1 });
        outcomes.push({ name: "postgres-redis", label: TOPOLOGY_LABELS["postgres-redis"], ...measured, halfLoad });
      } catch (err) {
        skip("postgres-redis", `failed: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        await server.stop();
      }
    }

    if (wanted.includes("two-nodes-balancer")) {
      if (!(await hasCommand("haproxy"))) {
        skip("two-nodes-balancer", "no haproxy on PATH (apt-get install haproxy)");
      } else {
        // Both nodes share DATA_DIR (the token signing key) and PUBLIC_URL (the balancer's address).
        const dataDir = await createTempDir("topology-c");
        const balancerPort = await getFreePort();
        const services = {
          DATABASE_URL: database.url,
          REDIS_URL: redis.url,
          REDIS_PREFIX: "bench-c:",
          PUBLIC_URL: `http://127.0.0.1:${balancerPort}`,
        };
        const nodes: ServerHandle[] = [];
        let balancer: Awaited<ReturnType<typeof startBalancer>> | undefined;
        try {
          // One after the other: the first migrates the database.
          for (const i of [1, 2]) {
            nodes.push(
              await startServer({
                name: `node ${i} (PostgreSQL + Redis)`,
                script: serverScript,
                isApp: true,
                env: (port) => nodeEnv(port, dataDir, services),
              }),
            );
          }
          balancer = await startBalancer(
            balancerPort,
            nodes.map((n) => n.port),
          );
          log(`${TOPOLOGY_LABELS["two-nodes-balancer"]}...`);
          const measured = await measureLogins(`http://127.0.0.1:${balancerPort}`, options.load, {
            nodes: nodes.map((n) => n.pid),
            postgres: database.backendPids,
            redis: [redis.pid],
            balancer: [balancer.pid],
          });
          outcomes.push({ name: "two-nodes-balancer", label: TOPOLOGY_LABELS["two-nodes-balancer"], ...measured });
        } catch (err) {
          skip("two-nodes-balancer", `failed: ${err instanceof Error ? err.message : String(err)}`);
        } finally {
          await balancer?.stop();
          await Promise.all(nodes.map((n) => n.stop()));
        }
      }
    }
  } finally {
    await redis.stop();
    await database.drop();
  }
  return outcomes;
}
