import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "@playwright/test";
import { Wallet } from "ethers";
import { generatePrivateJwk } from "./lib/claims/es256k";
import type { PlaywrightTestConfig } from "@playwright/test";

// Two servers for the whole run, each on a free port with its own data folder: the
// main one, and one whose QR codes expire after 10 s (e2e/expiry.spec.ts). The values
// are fixed in the runner's environment so its workers see the same ones.
if (process.env.E2E_PORT === undefined || process.env.E2E_SHORT_TTL_PORT === undefined) {
  // Both at once (distinct), outside the ephemeral range that outgoing connections take theirs from.
  const [port, shortTtlPort] = execFileSync(process.execPath, [
    "--import",
    "tsx",
    fileURLToPath(new URL("./test/support/free-port.ts", import.meta.url)),
    "2",
  ])
    .toString()
    .split(" ");
  process.env.E2E_PORT ??= port;
  process.env.E2E_SHORT_TTL_PORT ??= shortTtlPort;
}
process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), "wallet-login-e2e-"));
process.env.E2E_SHORT_TTL_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), "wallet-login-e2e-short-ttl-"));
/** QR lifetime on the second server; the least the config allows. */
process.env.E2E_SHORT_TTL_SECONDS ??= "10";

// The attestor the main server trusts (e2e/claims.spec.ts issues credentials with its private key).
process.env.E2E_ATTESTOR_JWK ??= JSON.stringify(generatePrivateJwk());
process.env.E2E_ATTESTOR_ISS ??= "https://attestor.e2e.example";
// The admin of the demo attestor (e2e/attestor.spec.ts signs in with this key).
process.env.E2E_ADMIN_KEY ??= `0x${"a1".repeat(32)}`;
const { d: _attestorSecret, ...attestorPublicJwk } = JSON.parse(process.env.E2E_ATTESTOR_JWK) as Record<string, string>;

/**
 * The browser scripts/ensure-browser.ts chose (`npm run test:e2e` runs it first):
 * PLAYWRIGHT_CHROMIUM_PATH, else its choice file, else Playwright's own Chromium.
 */
function getChromiumPath(): string | undefined {
  if (process.env.PLAYWRIGHT_CHROMIUM_PATH) return process.env.PLAYWRIGHT_CHROMIUM_PATH;
  try {
    const choice = JSON.parse(readFileSync(fileURLToPath(new URL(".e2e-browser.json", import.meta.url)), "utf8")) as {
      executablePath?: unknown;
    };
    return typeof choice.executablePath === "string" ? choice.executablePath : undefined;
  } catch {
    return undefined;
  }
}

/** How the e2e servers start (a production build: `npm run build` runs before). */
const SERVER_COMMAND = "node --enable-source-maps dist/server/index.js";

const baseURL = `http://localhost:${process.env.E2E_PORT}`;
// Read by the specs that run against the short-lived codes (e2e/support.ts).
process.env.E2E_SHORT_TTL_URL = `http://localhost:${process.env.E2E_SHORT_TTL_PORT}`;

type WebServer = Extract<NonNullable<PlaywrightTestConfig["webServer"]>, { command: string }>;

function appServer(url: string, dataDir: string, env: Record<string, string> = {}): WebServer {
  return {
    command: SERVER_COMMAND,
    url: `${url}/api/health`,
    timeout: 120_000,
    reuseExistingServer: false,
    stdout: "ignore",
    stderr: "pipe",
    env: {
      NODE_ENV: "production",
      PORT: new URL(url).port,
      HOST: "127.0.0.1",
      PUBLIC_URL: url,
      DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      ...env,
    },
  };
}

export default defineConfig({
  testDir: "e2e",
  globalTeardown: "./e2e/global-teardown.ts",
  fullyParallel: false,
  workers: 1,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  reporter: [["list"]],
  use: {
    baseURL,
    launchOptions: { executablePath: getChromiumPath() },
    colorScheme: "light",
    trace: "retain-on-failure",
  },
  webServer: [
    appServer(baseURL, process.env.E2E_DATA_DIR, {
      LOGIN_TTL_SECONDS: process.env.E2E_LOGIN_TTL_SECONDS ?? "120",
      TRUSTED_ATTESTORS: JSON.stringify({ [process.env.E2E_ATTESTOR_ISS]: attestorPublicJwk }),
      ADMIN_ADDRESSES: new Wallet(process.env.E2E_ADMIN_KEY).address,
      // A revoke on /attestor/admin holds for the next login (e2e/attestor.spec.ts).
      STATUS_LIST_TTL_SECONDS: "1",
    }),
    appServer(process.env.E2E_SHORT_TTL_URL, process.env.E2E_SHORT_TTL_DATA_DIR, {
      LOGIN_TTL_SECONDS: process.env.E2E_SHORT_TTL_SECONDS,
    }),
  ],
});
