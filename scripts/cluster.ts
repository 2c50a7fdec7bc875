/**
 * `npm run cluster`: a real cluster on this machine (README "Scaling out").
 *
 *   npm run cluster                 # 2 nodes behind HAProxy on http://localhost:3000
 *   npm run cluster -- --nodes 3 --port 8080
 *
 * - The production build (`npm run build` first when .next/BUILD_ID or dist/server/index.js is
 *   missing), N nodes of `node dist/server/index.js` on free ports, NODE_ENV=production.
 * - HAProxy from the distribution's package (`apt-get install -y haproxy`) on 127.0.0.1:<port>:
 *   round robin, websockets passed through, X-Forwarded-For added (the nodes trust 127.0.0.1,
 *   TRUSTED_PROXIES), a node taken out while GET /api/ready fails and put back when it answers.
 * - PostgreSQL: DATABASE_URL when set, else a database `wallet_login_cluster` it creates (once)
 *   on postgresql://postgres@127.0.0.1:5432 and keeps across runs. Migrations run at each
 *   node's start under PostgreSQL's advisory lock, so the nodes may start together.
 * - Redis: a redis-server of its own on a free port (persistence off: a restart empties it,
 *   which is what README "Scaling out" describes).
 * - One DATA_DIR for all nodes (.data/cluster): the token signing key and channel credentials.
 * - Ctrl-C (or SIGTERM): the nodes drain (SIGTERM), then HAProxy and Redis stop. Only the
 *   processes this script started are signalled, by their pids.
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";

const ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres";
const DATABASE_NAME = "wallet_login_cluster";

interface Options {
  nodes: number;
  port: number;
}

function readOptions(argv: string[]): Options {
  const options: Options = { nodes: 2, port: 3000 };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split("=", 2) as [string, string | undefined];
    const value = inline ?? argv[++i];
    const number = Number(value);
    if (flag === "--nodes" && Number.isInteger(number) && number >= 1 && number <= 16) options.nodes = number;
    else if (flag === "--port" && Number.isInteger(number) && number > 0 && number < 65536) options.port = number;
    else {
      console.error("usage: npm run cluster -- [--nodes 1-16] [--port <balancer port>]");
      process.exit(2);
    }
  }
  return options;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

const children: Array<{ name: string; child: ChildProcess }> = [];

/** Starts a child whose output lines are prefixed with its name. */
function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env): ChildProcess {
  const child = spawn(command, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  const prefix = (chunk: Buffer) =>
    chunk
      .toString("utf8")
      .split("\n")
      .filter((line) => line.trim() !== "")
      .map((line) => `[${name}] ${line}\n`)
      .join("");
  child.stdout?.on("data", (chunk: Buffer) => process.stdout.write(prefix(chunk)));
  child.stderr?.on("data", (chunk: Buffer) => process.stderr.write(prefix(chunk)));
  child.once("exit", (code, signal) => {
    if (!isStopping) console.log(`[cluster] ${name} exited (code ${code}, signal ${signal})`);
  });
  children.push({ name, child });
  return child;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what} not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function requireCommand(command: string, hint: string): void {
  if (spawnSync(command, ["-v"], { stdio: "ignore" }).error) {
    console.error(`[cluster] ${command} is not installed: ${hint}`);
    process.exit(1);
  }
}

async function ensureDatabase(): Promise<string> {
  if (process.env.DATABASE_URL) return process.env.DATABASE_URL;
  const admin = new pg.Client({ connectionString: ADMIN_URL, connectionTimeoutMillis: 3_000 });
  admin.on("error", () => {});
  await admin.connect();
  try {
    const found = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [DATABASE_NAME]);
    if (found.rowCount === 0) await admin.query(`CREATE DATABASE "${DATABASE_NAME}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${DATABASE_NAME}`;
  return url.toString();
}

function haproxyConfig(port: number, nodePorts: number[]): string {
  return [
    "global",
    "  maxconn 4000",
    "defaults",
    "  mode http",
    "  timeout connect 2s",
    "  timeout client 60s",
    "  timeout server 60s",
    // A websocket (Socket.IO) lives as long as the page: tunnels get their own timeout.
    "  timeout tunnel 1h",
    "  option http-keep-alive",
    "  option forwardfor",
    // A request refused at connect (a node that stopped accepting) goes to another node.
    "  retries 2",
    "  option redispatch",
    "frontend app",
    `  bind 127.0.0.1:${port}`,
    "  default_backend nodes",
    "backend nodes",
    "  balance roundrobin",
    "  option httpchk",
    // HTTP/1.1 with a Host: the nodes refuse a request without one (server/http/request-target.ts).
    `  http-check send meth GET uri /api/ready ver HTTP/1.1 hdr Host localhost:${port}`,
    "  http-check expect status 200",
    ...nodePorts.map((p, i) => `  server node${i + 1} 127.0.0.1:${p} check inter 1s fall 2 rise 1`),
    "",
  ].join("\n");
}

let isStopping = false;

async function stopAll(): Promise<void> {
  if (isStopping) return;
  isStopping = true;
  console.log("\n[cluster] stopping: nodes drain first, then HAProxy and Redis");
  const exits = (entries: typeof children) =>
    Promise.all(
      entries.map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            child.once("exit", () => resolve());
            child.kill("SIGTERM");
            setTimeout(() => child.kill("SIGKILL"), 12_000).unref();
          }),
      ),
    );
  await exits(children.filter(({ name }) => name.startsWith("node")));
  await exits(children.filter(({ name }) => !name.startsWith("node")));
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  requireCommand("haproxy", "apt-get install -y haproxy");
  requireCommand("redis-server", "apt-get install -y redis-server");
  process.on("SIGINT", () => void stopAll().then(() => process.exit(0)));
  process.on("SIGTERM", () => void stopAll().then(() => process.exit(0)));

  if (!existsSync(".next/BUILD_ID") || !existsSync("dist/server/index.js")) {
    console.log("[cluster] no production build yet: npm run build");
    const built = spawnSync("npm", ["run", "build"], { stdio: "inherit" });
    if (built.status !== 0) process.exit(built.status ?? 1);
  }

  const databaseUrl = await ensureDatabase();
  const redisPort = await freePort();
  start("redis", "redis-server", [
    "--port",
    String(redisPort),
    "--bind",
    "127.0.0.1",
    "--save",
    "",
    "--appendonly",
    "no",
  ]);
  const dataDir = path.resolve(".data/cluster");
  await mkdir(dataDir, { recursive: true, mode: 0o700 });

  const publicUrl = `http://localhost:${options.port}`;
  const nodePorts: number[] = [];
  for (let i = 0; i < options.nodes; i++) nodePorts.push(await freePort());
  for (const [i, port] of nodePorts.entries()) {
    start(`node${i + 1}`, process.execPath, ["--enable-source-maps", "dist/server/index.js"], {
      ...process.env,
      NODE_ENV: "production",
      HOST: "127.0.0.1",
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      DATABASE_URL: databaseUrl,
      REDIS_URL: `redis://127.0.0.1:${redisPort}`,
      DATA_DIR: dataDir,
      TRUSTED_PROXIES: "127.0.0.1",
    });
  }
  for (const port of nodePorts) {
    await waitFor(`node on ${port}`, async () => (await fetch(`http://127.0.0.1:${port}/api/ready`)).ok);
  }

  const configDir = await mkdtemp(path.join(tmpdir(), "wallet-login-cluster-"));
  const configFile = path.join(configDir, "haproxy.cfg");
  await writeFile(configFile, haproxyConfig(options.port, nodePorts));
  start("haproxy", "haproxy", ["-f", configFile, "-db"]);
  await waitFor("HAProxy", async () => (await fetch(`http://127.0.0.1:${options.port}/api/ready`)).ok, 15_000);

  console.log(
    [
      "",
      `[cluster] ${options.nodes} nodes behind HAProxy: ${publicUrl}`,
      `[cluster]   nodes:      ${nodePorts.map((p) => `127.0.0.1:${p}`).join(", ")}`,
      `[cluster]   Redis:      redis://127.0.0.1:${redisPort} (persistence off)`,
      `[cluster]   PostgreSQL: ${databaseUrl.replace(/\/\/[^@]*@/, "//")}`,
      `[cluster]   DATA_DIR:   ${dataDir}`,
      "[cluster] Ctrl-C stops everything.",
      "",
    ].join("\n"),
  );
}

main().catch(async (error: unknown) => {
  console.error(`[cluster] ${error instanceof Error ? error.message : String(error)}`);
  await stopAll();
  process.exit(1);
});
