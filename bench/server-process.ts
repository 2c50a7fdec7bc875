/**
 * The servers under test as child processes (the app's production server, or the bare Socket.IO
 * peer), started by the harness the tests use (test/support/server-process.ts) on free loopback
 * ports with their own temp DATA_DIR; here they also get bench/gc-preload.ts, so the benchmark
 * can read their RSS from /proc, ask them for a full GC, their event loop use or a CPU profile
 * over IPC, and stop them.
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { REPO_ROOT, startServerProcesses } from "../test/support/server-process";

/** A port for a helper process (a balancer, a redis-server): outside the ephemeral range. */
export { findFreePort as getFreePort } from "../test/support/free-port";

export const ROOT = path.resolve(REPO_ROOT);
const GC_PRELOAD = path.join(ROOT, "bench", "gc-preload.ts");
/** Lines of a child's output kept for error reports. */
const OUTPUT_LINES = 40;

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
  /** Environment over the harness's; a function gets the port picked for the child. */
  env?: Record<string, string> | ((port: number) => Record<string, string>);
  /** Extra node flags, e.g. --cpu-prof. */
  nodeFlags?: string[];
  /** Ready once GET /api/health answers 200 (the app); without it, once it listens. */
  isApp?: boolean;
  timeoutMs?: number;
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

/**
 * Starts one server and waits until it is ready. The harness keeps every server setting of this
 * process's environment (REDIS_URL, DATABASE_URL, ...) from it: the benchmark measures the
 * embedded defaults, memory stores and SQLite in the temp DATA_DIR.
 */
export async function startServer(options: StartServerOptions): Promise<ServerHandle> {
  const [server] = await startServerProcesses(
    [options.name],
    ([port]) => (typeof options.env === "function" ? options.env(port!) : (options.env ?? {})),
    {
      script: options.script,
      nodeFlags: ["--expose-gc", ...(options.nodeFlags ?? [])],
      preload: [GC_PRELOAD],
      ready: options.isApp ? "healthy" : "listening",
      timeoutMs: options.timeoutMs ?? 90_000,
    },
  );
  const { child } = server!;
  trackChild(child);
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

  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.name} has no pid`);
  return {
    name: options.name,
    pid,
    port: server!.port,
    url: server!.url,
    output: () => server!.output().split("\n").filter(Boolean).slice(-OUTPUT_LINES).join("\n"),
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
      await server!.stop(15_000);
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
