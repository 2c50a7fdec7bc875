import { spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";

const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));
const OUTPUT_LIMIT = 64 * 1024;

/** Everything server/config.ts reads: never inherited from the test's own environment. */
const SERVER_ENV_KEYS = new Set([
  "NODE_ENV",
  "PORT",
  "HOST",
  "PUBLIC_URL",
  "ALLOWED_ORIGINS",
  "DATA_DIR",
  "DATABASE_URL",
  "REDIS_URL",
  "REDIS_PREFIX",
  "APP_NAME",
  "LOGIN_TTL_SECONDS",
  "CHAIN_ID",
  "ACCESS_TOKEN_TTL_SECONDS",
  "REFRESH_TOKEN_TTL_DAYS",
  "RATE_LIMIT_LOGIN_START_PER_SOCKET",
  "RATE_LIMIT_LOGIN_START_PER_IP",
  "RATE_LIMIT_AUTH_PER_IP",
  "TRUST_PROXY",
  "TRUSTED_PROXIES",
  "LOG_LEVEL",
  "CRYPTO_BACKEND",
  "API_ONLY",
  "APP_ID",
  "APP_KEY",
  "APP_SECRET",
  "RATE_LIMIT_SUBSCRIBE_PER_SOCKET",
  "PRESENCE_MAX_MEMBERS",
  "CHANNELS_NODE_TIMEOUT_SECONDS",
]);

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServerProcess {
  name: string;
  /** The address it listens on, http://127.0.0.1:<port> (not necessarily its PUBLIC_URL). */
  url: string;
  port: number;
  child: ChildProcess;
  /** Settles when the process has exited. */
  exited: Promise<ExitInfo>;
  /** The last 64 KiB of its stdout and stderr. */
  output(): string;
  /** Polls GET /api/health until it answers 200; throws with the process output on timeout or exit. */
  waitUntilHealthy(timeoutMs?: number): Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited (at once if it already has). */
  stop(graceMs?: number): Promise<ExitInfo>;
}

/**
 * Starts `node --import tsx server/index.ts` as its own process (what `npm run dev`
 * runs) on 127.0.0.1:`port`, API only unless `env` says otherwise. Returns at once:
 * start several, then wait for each to be healthy.
 */
export function spawnServerProcess(name: string, port: number, env: Record<string, string>): ServerProcess {
  const inherited = Object.entries(process.env).filter(([key]) => !SERVER_ENV_KEYS.has(key));
  const childEnv: NodeJS.ProcessEnv = {
    ...Object.fromEntries(inherited),
    NODE_ENV: "test",
    HOST: "127.0.0.1",
    PORT: String(port),
    API_ONLY: "true",
    LOG_LEVEL: "warn",
    ...env,
  };
  const child = spawn(process.execPath, ["--import", "tsx", "server/index.ts"], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ["ignore", "pipe", "pipe"],
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
  const url = `http://127.0.0.1:${port}`;

  const describeOutput = () => `--- ${name} output ---\n${output || "(none)"}\n--- end of ${name} output ---`;

  return {
    name,
    url,
    port,
    child,
    exited,
    output: () => output,

    async waitUntilHealthy(timeoutMs = 40_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (exitInfo) {
          throw new Error(
            `${name} exited (code ${exitInfo.code}, signal ${exitInfo.signal}) before it was healthy\n${describeOutput()}`,
          );
        }
        try {
          const response = await fetch(`${url}/api/health`, { signal: AbortSignal.timeout(1_000) });
          if (response.ok) return;
        } catch {
          // not listening yet
        }
        if (Date.now() > deadline) {
          throw new Error(`${name} did not answer GET /api/health within ${timeoutMs} ms\n${describeOutput()}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
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
}
