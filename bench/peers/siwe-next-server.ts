/**
 * The logins peer's server: the Next app in bench/peers/siwe-next (production build) on a plain
 * node:http server, with what its route handlers share on globalThis, as the guides' singletons
 * live there: the Prisma client (the same generated client and SQLite adapter as ours, a fresh
 * database in DATA_DIR), the HS256 key for `jose`, the nonces. `PORT`, `HOST`, `DATA_DIR` from
 * the environment; the bench builds the app first (`buildSiwePeer`).
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { servePeer } from "./serve-peer";

export const PEER_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "siwe-next");
const ROOT = path.resolve(PEER_DIR, "../../..");

/** `next build` of the peer app, unless it is built already. */
export async function buildSiwePeer(timeoutMs = 5 * 60_000): Promise<void> {
  if (existsSync(path.join(PEER_DIR, ".next", "BUILD_ID"))) return;
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules", "next", "dist", "bin", "next"), "build"], {
      cwd: PEER_DIR,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NODE_ENV: "production", NEXT_TELEMETRY_DISABLED: "1" },
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`next build of the siwe peer failed (${code})`));
    });
  });
}

async function main() {
  const port = Number(process.env.PORT ?? 0);
  const host = process.env.HOST ?? "127.0.0.1";
  const dataDir = process.env.DATA_DIR;
  if (!dataDir) throw new Error("DATA_DIR is required");
  const url = `file:${path.join(dataDir, "peer.db")}`;
  const { migrateDatabase } = await import("../../server/db/migrate");
  const { createDb } = await import("../../server/db/client");
  await migrateDatabase({ url });
  const { prisma } = await createDb({ url });
  (globalThis as Record<string, unknown>).siwePeer = {
    prisma,
    secret: randomBytes(32),
    nonces: new Map<string, number>(),
    domain: `${host}:${port}`,
  };
  const { default: next } = await import("next");
  const app = next({ dev: false, dir: PEER_DIR, hostname: host, port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const server = createServer((req, res) => void handle(req, res));
  servePeer(server, host, port, () => prisma.$disconnect());
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) await main();
