/**
 * Server processes for tests and benchmarks (the one harness both use): spawn a server
 * script as its own process, learn the address it bound, wait until it is healthy, stop it.
 *
 * - The child reports `{type: "listening", url}` over IPC once it listens (server/index.ts,
 *   bench/bare-socket-server.ts). That message, not a probe of the port, says the server
 *   is up: another process that took the port cannot pass for it, and a child on port 0
 *   tells its port this way.
 * - A port chosen in advance (PUBLIC_URL names it) can be taken before the child binds
 *   it: the child exits with EADDRINUSE; see startServerProcess, which retries.
 * - The child gets the parent's environment without any server setting (CONFIG_ENV_KEYS)
 *   or NODE_OPTIONS, then NODE_ENV=test, HOST, PORT, API_ONLY=true, LOG_LEVEL=warn and `env`.
 */
import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { CONFIG_ENV_KEYS } from "../../server/config";
import { findFreePorts, isAddressInUse } from "./free-port";

export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUTPUT_LIMIT = 64 * 1024;

/** Everything server/config.ts reads, and NODE_OPTIONS: never inherited from the parent's environment. */
const SERVER_ENV_KEYS = new Set([...CONFIG_ENV_KEYS, "NODE_OPTIONS"]);

/**
 * A child server's environment: the parent's without any server setting (a developer's
 * REDIS_URL or DATABASE_URL must not reach a test server), NODE_ENV=test, then `env`.
 */
export function serverChildEnv(
  parent: Record<string, string | undefined>,
  env: Record<string, string>,
): NodeJS.ProcessEnv {
  const inherited = Object.entries(parent).filter(([key]) => !SERVER_ENV_KEYS.has(key));
  return { ...Object.fromEntries(inherited), NODE_ENV: "test", ...env };
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface SpawnOptions {
  /** Relative to the repository root; default server/index.ts. */
  script?: string;
  /** Node flags before the script, e.g. --expose-gc, --cpu-prof. */
  nodeFlags?: string[];
  /** Modules preloaded with --import after tsx (bench/gc-preload.ts). */
  preload?: string[];
}

export interface ServerProcess {
  name: string;
  /** The address it listens on, http://127.0.0.1:<port> (not necessarily its PUBLIC_URL); on port 0, known once ready. */
  url: string;
  port: number;
  child: ChildProcess;
  /** Settles when the process has exited. */
  exited: Promise<ExitInfo>;
  /** The last 64 KiB of its stdout and stderr. */
  output(): string;
  /** Until the child reports that it listens; throws with its output on timeout or exit. */
  waitUntilListening(timeoutMs?: number): Promise<void>;
  /** waitUntilListening, then GET /api/health until it answers 200. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited (at once if it already has). */
  stop(graceMs?: number): Promise<ExitInfo>;
}

const isListeningMessage = (msg: unknown): msg is { type: "listening"; url: string } =>
  typeof msg === "object" &&
  msg !== null &&
  (msg as { type?: unknown }).type === "listening" &&
  typeof (msg as { url?: unknown }).url === "string";

/**
 * Starts `node --import tsx <script>` (server/index.ts unless `options` says otherwise,
 * what `npm run dev` runs) as its own process on 127.0.0.1:`port` (0: any free port), API
 * only unless `env` says otherwise. Returns at once: start several, then wait for each.
 */
export function spawnServerProcess(
  name: string,
  port: number,
  env: Record<string, string>,
  options: SpawnOptions = {},
): ServerProcess {
  const childEnv = serverChildEnv(process.env, {
    HOST: "127.0.0.1",
    PORT: String(port),
    API_ONLY: "true",
    LOG_LEVEL: "warn",
    ...env,
  });
  const args = [
    ...(options.nodeFlags ?? []),
    "--import",
    "tsx",
    ...(options.preload ?? []).flatMap((module) => ["--import", module]),
    options.script ?? "server/index.ts",
  ];
  const child = spawn(process.execPath, args, {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe", "ipc"],
  });
  let output = "";
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString("utf8")).slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
    child.once("error", (error) => {
      collect(Buffer.from(`spawn failed: ${error.message}\n`));
      exitInfo = { code: null, signal: null };
      resolve(exitInfo);
    });
  });
  let isListening = false;
  const listening = new Promise<void>((resolve) => {
    child.on("message", (msg: unknown) => {
      if (!isListeningMessage(msg) || isListening) return;
      isListening = true;
      const bound = new URL(msg.url);
      handle.port = Number(bound.port);
      handle.url = `http://127.0.0.1:${handle.port}`;
      resolve();
    });
  });

  const describeOutput = () => `--- ${name} output ---\n${output || "(none)"}\n--- end of ${name} output ---`;
  const exitError = () =>
    new Error(
      `${name} exited (code ${exitInfo?.code}, signal ${exitInfo?.signal}) before it was ready\n${describeOutput()}`,
    );
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

  const handle: ServerProcess = {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    exited,
    output: () => output,

    async waitUntilListening(timeoutMs = 40_000) {
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<"timeout">((resolve) => {
        timer = setTimeout(() => resolve("timeout"), timeoutMs);
      });
      try {
        const outcome = await Promise.race([
          listening.then(() => "ok" as const),
          exited.then(() => "exit" as const),
          timedOut,
        ]);
        // A child that listened and then died still counts as an exit.
        if (outcome === "exit" || exitInfo) throw exitError();
        if (outcome === "timeout")
          throw new Error(`${name} did not listen within ${timeoutMs} ms\n${describeOutput()}`);
      } finally {
        clearTimeout(timer);
      }
    },

    async waitUntilHealthy(timeoutMs = 40_000) {
      const deadline = Date.now() + timeoutMs;
      await handle.waitUntilListening(timeoutMs);
      for (;;) {
        if (exitInfo) throw exitError();
        try {
          const response = await fetch(`${handle.url}/api/health`, { signal: AbortSignal.timeout(1_000) });
          await response.arrayBuffer();
          if (response.ok) return;
        } catch {
          // listening, not answering yet
        }
        if (Date.now() > deadline) {
          throw new Error(`${name} did not answer GET /api/health within ${timeoutMs} ms\n${describeOutput()}`);
        }
        await sleep(50);
      }
    },

    async stop(graceMs = 10_000) {
      if (exitInfo) return exitInfo;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return handle;
}

/**
 * Spawns one server per `names` entry on free ports chosen in advance, `env(ports)` naming
 * them (PUBLIC_URL), and waits until each is healthy (`ready: "listening"`: until it listens).
 * When a port was taken between the choice and the bind (EADDRINUSE), stops the batch and
 * starts it again on other ports, up to `attempts` times.
 */
export async function startServerProcesses(
  names: readonly string[],
  env: (ports: number[]) => Record<string, string>,
  options: SpawnOptions & { ready?: "healthy" | "listening"; attempts?: number; timeoutMs?: number } = {},
): Promise<ServerProcess[]> {
  const attempts = options.attempts ?? 5;
  for (let attempt = 1; ; attempt++) {
    const ports = await findFreePorts(names.length);
    const childEnv = env(ports);
    const started = names.map((name, i) => spawnServerProcess(name, ports[i]!, childEnv, options));
    const outcomes = await Promise.allSettled(
      started.map((server) =>
        options.ready === "listening"
          ? server.waitUntilListening(options.timeoutMs)
          : server.waitUntilHealthy(options.timeoutMs),
      ),
    );
    const failures = outcomes.flatMap((outcome) => (outcome.status === "rejected" ? [outcome.reason as unknown] : []));
    if (failures.length === 0) return started;
    await Promise.all(started.map((server) => server.stop(5_000)));
    const isPortTaken = started.some((server) => isAddressInUse(server.output()));
    if (!isPortTaken || attempt >= attempts) throw failures[0];
  }
}
