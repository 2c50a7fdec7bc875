/**
 * A redis-server of the test's own, on a free port, with persistence off: the test may
 * SIGKILL it and start it again empty on the same port (what a crashed Redis without
 * persistence looks like to the app). The shared Redis on 6379 is never touched.
 *
 *   const redis = await startRedisProcess();   // redis.url: redis://127.0.0.1:<port>
 *   await redis.kill();                        // SIGKILL, waits for the exit
 *   await redis.restart();                     // same port, empty
 *   await redis.stop();                        // in afterAll
 *
 * With `{ persistent: true }` it writes every command to an append-only file (fsync always)
 * in a temporary folder of its own, so a restart after SIGKILL comes back with its data:
 * a restart from a snapshot, as Redis with persistence on does. stop() removes the folder.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import type { ChildProcess } from "node:child_process";
import { findFreePort } from "./free-port";
import { isPortOpen } from "./services";

export interface RedisProcess {
  url: string;
  port: number;
  /** SIGKILL; resolves once it has exited. */
  kill(): Promise<void>;
  /** Starts it again on the same port: empty, or with its data when persistent. */
  restart(): Promise<void>;
  /** Kills it if it runs (afterAll). */
  stop(): Promise<void>;
}

/** Whether `redis-server` can be run here. */
export function hasRedisServer(): boolean {
  return spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
}

export async function startRedisProcess(options: { persistent?: boolean } = {}): Promise<RedisProcess> {
  const port = await findFreePort();
  const dir = options.persistent ? await mkdtemp(path.join(tmpdir(), "wallet-login-redis-")) : undefined;
  const persistence = dir
    ? ["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--dir", dir]
    : ["--save", "", "--appendonly", "no"];
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  async function start(): Promise<void> {
    const started = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", ...persistence, "--loglevel", "warning"],
      { stdio: "ignore" },
    );
    child = started;
    exited = new Promise<void>((resolve) => started.once("exit", () => resolve()));
    const deadline = Date.now() + 10_000;
    while (!(await isPortOpen(port))) {
      if (started.exitCode !== null) throw new Error(`redis-server on port ${port} exited at start`);
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not listen within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async function kill(): Promise<void> {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited;
    child = undefined;
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill,
    restart: start,
    async stop() {
      await kill();
      if (dir) await rm(dir, { recursive: true, force: true });
    },
  };
}
