/**
 * Starts the servers under test as child processes (the app's production server, or the bare
 * Socket.IO peer) on free loopback ports with their own temp DATA_DIR, reads their RSS from /proc,
 * asks them for a full GC over IPC (bench/gc-preload.ts), and stops them.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, connect } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const GC_PRELOAD = path.join(ROOT, "bench", "gc-preload.ts");

/** Every child this process started, so an abort can stop them all. */
const children = new Set<ChildProcess>();
const tempDirs = new Set<string>();

export interface ServerHandle {
  name: string;
  pid: number;
  port: number;
  url: string;
  /** The last lines the child wrote, for error reports. */
  output(): string;
  /** Full GC in the child (twice), then its process.memoryUsage(). */
  collectGarbage(): Promise<NodeJS.MemoryUsage>;
  readRssBytes(): Promise<number>;
  /** Seconds of CPU (user + system) the child has used so far. */
  readCpuSeconds(): Promise<number>;
  /** Event loop active and idle ms since the child started; diff two readings for a window. */
  readEventLoop(): Promise<EventLoopUtilization>;
  /** V8 CPU profile of the child between these two calls, written to `filePath`. */
  startProfile(): Promise<void>;
  stopProfile(filePath: string): Promise<void>;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  name: string;
  /** Script relative to the repository root. */
  script: string;
  /** Environment over the parent's; a function gets the port picked for the child. */
  env?: Record<string, string> | ((port: number) => Record<string, string>);
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** A path answering 200 once the server is ready; without it, the first accepted TCP connection. */
  healthPath?: string;
  timeoutMs?: number;
}

export function getFreePort(): Promise<number> {
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

export async function createTempDir(label: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `wallet-login-bench-${label}-`));
  tempDirs.add(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all([...tempDirs].map((dir) => rm(dir, { recursive: true, force: true })));
  tempDirs.clear();
}

export async function readRssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]) * 1024;
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s, as on every Linux we run on). */
export async function readCpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  // The fields after the parenthesised command name; utime and stime are the 14th and 15th of the line.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

interface ChildReply {
  type?: string;
  id?: number;
  error?: string;
  hasGc?: boolean;
  memory?: NodeJS.MemoryUsage;
  elu?: EventLoopUtilization;
}

export interface EventLoopUtilization {
  idle: number;
  active: number;
  utilization: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function isAccepting(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

async function isHealthy(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.arrayBuffer();
    return response.ok;
  } catch {
    return false;
  }
}

/** The app's production server environment for a benchmark: embedded stores, no rate limit in the way. */
export function appServerEnv(port: number, dataDir: string, opts: { apiOnly: boolean }): Record<string, string> {
  return {
    NODE_ENV: "production",
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    DATA_DIR: dataDir,
    LOG_LEVEL: "warn",
    API_ONLY: opts.apiOnly ? "true" : "false",
    // Sessions outlive every measurement; the benchmark's single IP is not throttled.
    LOGIN_TTL_SECONDS: "600",
    RATE_LIMIT_LOGIN_START_PER_IP: "1000000",
    RATE_LIMIT_LOGIN_START_PER_SOCKET: "1000000",
    RATE_LIMIT_AUTH_PER_IP: "1000000",
    // Every benchmark socket comes from 127.0.0.1.
    MAX_SOCKETS_PER_IP: "10000000",
  };
}

export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const port = await getFreePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    "--expose-gc",
    ...(options.nodeFlags ?? []),
    "--import",
    "tsx",
    "--import",
    GC_PRELOAD,
    path.join(ROOT, options.script),
  ];
  const extraEnv = typeof options.env === "function" ? options.env(port) : options.env;
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv, PORT: String(port), HOST: "127.0.0.1" };
  // The benchmark measures the embedded defaults: memory stores, SQLite in the temp DATA_DIR.
  // (The production topologies of bench/topologies.ts pass their own.)
  if (!extraEnv?.REDIS_URL) delete env.REDIS_URL;
  if (!extraEnv?.DATABASE_URL) delete env.DATABASE_URL;
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
  children.add(child);
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (lines.length > 40) lines.splice(0, lines.length - 40);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  let exitCode: number | null | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once("exit", (code, signal) => {
      exitCode = code ?? (signal ? -1 : 0);
      children.delete(child);
      resolve();
    });
  });

  const pending = new Map<number, (reply: ChildReply) => void>();
  let nextId = 1;
  child.on("message", (msg: unknown) => {
    const reply = msg as ChildReply;
    if (reply.id === undefined) return;
    pending.get(reply.id)?.(reply);
    pending.delete(reply.id);
  });
  const ask = (type: string, extra: object = {}) => {
    const id = nextId++;
    return new Promise<ChildReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(new Error(`${options.name} did not answer ${type}`));
      }, 30_000);
      pending.set(id, (reply) => {
        clearTimeout(timer);
        if (reply.error) reject(new Error(`${options.name}: ${type} failed: ${reply.error}`));
        else resolve(reply);
      });
      child.send({ type, id, ...extra });
    });
  };

  const output = () => lines.join("\n");
  const timeoutMs = options.timeoutMs ?? 90_000;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (exitCode !== undefined)
      throw new Error(`${options.name} exited (${exitCode}) before it was ready:\n${output()}`);
    const isReady = options.healthPath ? await isHealthy(`${url}${options.healthPath}`) : await isAccepting(port);
    if (isReady) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`${options.name} was not ready within ${timeoutMs} ms:\n${output()}`);
    }
    await sleep(100);
  }

  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} has no pid`);
  return {
    name: options.name,
    pid,
    port,
    url,
    output,
    readRssBytes: () => readRssBytes(pid),
    readCpuSeconds: () => readCpuSeconds(pid),
    async collectGarbage() {
      const reply = await ask("gc");
      if (!reply.hasGc) throw new Error(`${options.name} has no global.gc (--expose-gc missing)`);
      if (!reply.memory) throw new Error(`${options.name} sent no memory figures`);
      return reply.memory;
    },
    async readEventLoop() {
      const reply = await ask("elu");
      if (!reply.elu) throw new Error(`${options.name} sent no event loop figures`);
      return reply.elu;
    },
    async startProfile() {
      await ask("profile:start");
    },
    async stopProfile(filePath: string) {
      await ask("profile:stop", { path: filePath });
    },
    async stop() {
      if (exitCode !== undefined) return;
      child.kill("SIGTERM");
      const isDone = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!isDone) {
        child.kill("SIGKILL");
        await exited;
      }
    },
  };
}

/** Registers a child started elsewhere (load generators) so killAllChildren reaches it. */
export function trackChild(child: ChildProcess): void {
  children.add(child);
  child.once("exit", () => children.delete(child));
}

/**
 * Runs a load generator script as its own process (`node --import tsx script ...args`) and
 * resolves with the `{type: "result", result}` it sends over IPC. It reports its measured window
 * with `{type: "window", phase}` messages, passed to `onWindow` as they arrive, so the caller can
 * read the server's CPU (or profile it) over exactly that window. Killed after `budgetMs`.
 */
export function runGeneratorProcess<Result>(options: {
  label: string;
  script: string;
  args: string[];
  budgetMs: number;
  onWindow: (phase: "start" | "end") => void;
}): Promise<Result> {
  return new Promise((resolve, reject) => {
    const child = fork(options.script, options.args, {
      cwd: ROOT,
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    trackChild(child);
    let result: Result | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${options.label} still running after ${options.budgetMs} ms`));
    }, options.budgetMs);
    child.on("message", (msg: unknown) => {
      const typed = msg as { type?: string; phase?: "start" | "end"; result?: Result };
      if (typed.type === "window" && typed.phase) options.onWindow(typed.phase);
      if (typed.type === "result") result = typed.result;
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (result) resolve(result);
      else reject(new Error(`${options.label} exited (${code}) without a result`));
    });
  });
}

/** Last resort on abort: SIGKILL to every child still running. */
export function killAllChildren(): void {
  for (const child of children) child.kill("SIGKILL");
  children.clear();
}
