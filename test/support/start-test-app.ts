import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { loadConfig } from "../../server/config";
import { startApp, type RunningApp } from "../../server/app";
import { createLogger, type Logger } from "../../server/logger";
import { retryOnAddressInUse } from "./free-port";
import { deleteRedisKeys } from "./services";

export interface TestApp extends RunningApp {
  baseUrl: string;
  dataDir: string;
  stop(): Promise<void>;
}

/**
 * A real server in this process (API and sockets, no pages) on a free port with its own data folder.
 * `options.log` receives its log lines (default: TEST_LOG_LEVEL, silent).
 */
export async function startTestApp(env: Record<string, string> = {}, options: { log?: Logger } = {}): Promise<TestApp> {
  const dataDir = env.DATA_DIR ?? (await mkdtemp(path.join(tmpdir(), "wallet-login-test-")));
  const redisPrefix = env.REDIS_PREFIX ?? `test:${randomUUID()}:`;
  // PUBLIC_URL names the port, so the port is chosen before the start (again if it was taken).
  const { app, config, baseUrl } = await retryOnAddressInUse(async (port) => {
    const baseUrl = `http://127.0.0.1:${port}`;
    const config = loadConfig({
      NODE_ENV: "test",
      PORT: String(port),
      HOST: "127.0.0.1",
      PUBLIC_URL: baseUrl,
      DATA_DIR: dataDir,
      REDIS_PREFIX: redisPrefix,
      RATE_LIMIT_LOGIN_START_PER_IP: "100000",
      RATE_LIMIT_AUTH_PER_IP: "100000",
      RATE_LIMIT_ATTESTOR_CHALLENGES_PER_IP: "100000",
      RATE_LIMIT_ATTESTOR_REQUESTS_PER_IP: "100000",
      RATE_LIMIT_LOGIN_START_PER_SOCKET: "1000",
      MAX_SOCKETS_PER_IP: "100000",
      ...env,
    });
    const log = options.log ?? createLogger(process.env.TEST_LOG_LEVEL ?? "silent");
    return { app: await startApp(config, { withPages: false, log }), config, baseUrl };
  });
  return {
    ...app,
    baseUrl,
    dataDir,
    async stop() {
      await app.close();
      if (!env.DATA_DIR) await rm(dataDir, { recursive: true, force: true });
      // The keys this app made under the prefix it was given here (a caller's own prefix is the caller's).
      if (config.redisUrl && !env.REDIS_PREFIX) await deleteRedisKeys(config.redisUrl, redisPrefix);
    },
  };
}
