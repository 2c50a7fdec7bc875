import { loadConfig, ConfigError } from "./config";
import { createLogger } from "./logger";
import { startApp } from "./app";

/**
 * Entry: `npm start` runs its compiled form (dist/server/index.js, scripts/build-server.mjs),
 * `npm run dev` this file through tsx. One process, one PID; SIGTERM/SIGINT close it cleanly.
 */
async function main() {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  process.on("unhandledRejection", (err) => log.error({ err }, "unhandled rejection"));
  const app = await startApp(config, { log, withPages: !config.apiOnly });
  // A parent that spawned this server with an IPC channel (test/support/server-process.ts) learns the bound address.
  process.send?.({ type: "listening", url: app.url });
  let isClosing = false;
  const shutdown = (signal: string) => {
    if (isClosing) return;
    isClosing = true;
    log.info({ signal }, "shutting down");
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    app.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => shutdown("SIGTERM"));
  process.on("SIGINT", () => shutdown("SIGINT"));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
