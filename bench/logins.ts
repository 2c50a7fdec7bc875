/**
 * The login benchmark and its peers, on one production server (pages + API + Socket.IO on one
 * port): autocannon against a trivial API-router route (GET /api/health) and a trivial Next route
 * handler (GET /next-ping), then the login load generator (bench/login-load.ts) in its own process.
 */
import path from "node:path";
import { measureThroughput, type ThroughputResult } from "./http-throughput";
import type { LoginLoadOptions, LoginLoadResult } from "./login-load";
import { ROOT, appServerEnv, createTempDir, runGeneratorProcess, startServer } from "./server-process";
import type { EventLoopUtilization, ServerHandle } from "./server-process";

export interface LoginsBenchOptions {
  load: Omit<LoginLoadOptions, "url">;
  http: { connections: number; seconds: number; warmupSeconds: number };
  /** Write a CPU profile of the server over the login window to this file. */
  cpuProfilePath?: string;
}

export interface LoginsBenchResult {
  apiHealth: ThroughputResult;
  nextPing: ThroughputResult;
  logins: LoginLoadResult;
  /** CPU the server used over the measured window, in cores (2 = both cores busy). */
  serverCpuCores: number;
  /**
   * Share of the window the server's event loop was busy. Near 1 with serverCpuCores well under 1
   * means the server wanted more CPU than the machine gave it (other processes' load).
   */
  serverEventLoopBusy: number;
  cpuProfilePath?: string;
}

const LOAD_SCRIPT = path.join(ROOT, "bench", "login-load.ts");

/**
 * Runs bench/login-load.ts in its own process. `onWindow` is awaited-free: it is called when the
 * measured window starts and ends, so the server's CPU and profile cover exactly that window.
 */
function runLoadGenerator(
  options: LoginLoadOptions,
  onWindow: (phase: "start" | "end") => void,
): Promise<LoginLoadResult> {
  return runGeneratorProcess<LoginLoadResult>({
    label: "login load generator",
    script: LOAD_SCRIPT,
    args: [JSON.stringify(options)],
    budgetMs: options.warmupMs + options.durationMs + options.drainMs + 60_000,
    onWindow,
  });
}

async function checkJson(url: string, expect: (body: unknown) => boolean) {
  const response = await fetch(url, { signal: AbortSignal.timeout(30_000) });
  const body: unknown = await response.json().catch(() => undefined);
  if (!response.ok || !expect(body)) throw new Error(`GET ${url} answered ${response.status} ${JSON.stringify(body)}`);
}

export async function benchLogins(options: LoginsBenchOptions): Promise<LoginsBenchResult> {
  const dataDir = await createTempDir("logins");
  const server: ServerHandle = await startServer({
    name: "our server",
    script: "server/index.ts",
    isApp: true,
    env: (port) => appServerEnv(port, dataDir, { apiOnly: false }),
  });
  try {
    await checkJson(`${server.url}/api/health`, (b) => (b as { ok?: unknown }).ok === true);
    await checkJson(`${server.url}/next-ping`, (b) => (b as { ok?: unknown }).ok === true);

    const apiHealth = await measureThroughput(`${server.url}/api/health`, options.http);
    const nextPing = await measureThroughput(`${server.url}/next-ping`, options.http);

    const windowTasks: Array<Promise<unknown>> = [];
    let cpuAtStart: Promise<number> | undefined;
    let cpuAtEnd: Promise<number> | undefined;
    let loopAtStart: Promise<EventLoopUtilization> | undefined;
    let loopAtEnd: Promise<EventLoopUtilization> | undefined;
    const { cpuProfilePath } = options;
    const logins = await runLoadGenerator({ ...options.load, url: server.url }, (phase) => {
      if (phase === "start") {
        cpuAtStart = server.readCpuSeconds();
        loopAtStart = server.readEventLoop();
        if (cpuProfilePath) windowTasks.push(server.startProfile());
      } else {
        cpuAtEnd = server.readCpuSeconds();
        loopAtEnd = server.readEventLoop();
        if (cpuProfilePath) windowTasks.push(server.stopProfile(cpuProfilePath));
      }
    });
    await Promise.all(windowTasks);
    const serverCpuSeconds = cpuAtStart && cpuAtEnd ? (await cpuAtEnd) - (await cpuAtStart) : 0;
    let serverEventLoopBusy = 0;
    if (loopAtStart && loopAtEnd) {
      const [a, b] = [await loopAtStart, await loopAtEnd];
      const active = b.active - a.active;
      serverEventLoopBusy = Math.round((active / Math.max(1, active + b.idle - a.idle)) * 100) / 100;
    }
    return {
      apiHealth,
      nextPing,
      logins,
      serverEventLoopBusy,
      serverCpuCores: Math.round((serverCpuSeconds / (options.load.durationMs / 1000)) * 100) / 100,
      ...(cpuProfilePath ? { cpuProfilePath } : {}),
    };
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server output ---\n${server.output()}`, {
      cause: err,
    });
  } finally {
    await server.stop();
  }
}
