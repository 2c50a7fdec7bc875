/**
 * Memory per idle socket: our server (API_ONLY, memory stores) holding N sockets that each did
 * `login:start`, beside the bare Socket.IO server (bench/bare-socket-server.ts) holding N plain
 * sockets, in the same run. RSS is read from /proc after a forced full GC, before and after the
 * sockets connect; the difference over N is the cost of one socket.
 */
import { fork, type ChildProcess } from "node:child_process";
import path from "node:path";
import { ROOT, appServerEnv, createTempDir, startServer, trackChild, type ServerHandle } from "./server-process";
import type { HolderOptions, HolderReport } from "./socket-holder";
import { mergeErrors, sleep } from "./stats";

export interface MemoryBenchOptions {
  sockets: number;
  /** Child processes holding the client sockets. */
  holders: number;
  batch: number;
}

export interface MemoryMeasurement {
  server: string;
  sockets: number;
  connected: number;
  loginStarts: number;
  rssBeforeBytes: number;
  rssAfterBytes: number;
  heapUsedBeforeBytes: number;
  heapUsedAfterBytes: number;
  /** V8 heap committed but unused at the baseline: room that new sockets fill without RSS growing. */
  heapFreeBeforeBytes: number;
  rssBytesPerSocket: number;
  heapBytesPerSocket: number;
  connectMs: number;
  errors: Record<string, number>;
}

export interface MemoryBenchResult {
  ours: MemoryMeasurement;
  bare: MemoryMeasurement;
  /** ours.rssBytesPerSocket / bare.rssBytesPerSocket */
  ratio: number;
  heapRatio: number;
}

const HOLDER_SCRIPT = path.join(ROOT, "bench", "socket-holder.ts");
const WARMUP_SOCKETS = 200;

interface Holder {
  child: ChildProcess;
  ready: Promise<HolderReport>;
  close(): Promise<Record<string, number>>;
}

function startHolder(options: HolderOptions): Holder {
  const child = fork(HOLDER_SCRIPT, [JSON.stringify(options)], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  trackChild(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let closedErrors: Record<string, number> = {};
  const ready = new Promise<HolderReport>((resolve, reject) => {
    child.on("message", (msg: unknown) => {
      const typed = msg as { type?: string; errors?: Record<string, number> };
      if (typed.type === "ready") resolve(msg as HolderReport);
      if (typed.type === "closed") closedErrors = typed.errors ?? {};
    });
    child.once("exit", (code) => reject(new Error(`socket holder exited (${code}) before it was ready`)));
  });
  return {
    child,
    ready,
    async close() {
      if (child.exitCode === null && child.connected) child.send({ type: "close" });
      const isDone = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!isDone) child.kill("SIGKILL");
      return closedErrors;
    },
  };
}

async function openSockets(url: string, count: number, holders: number, batch: number, loginStart: boolean) {
  const per = Math.ceil(count / holders);
  const started = performance.now();
  const list: Holder[] = [];
  for (let left = count; left > 0; left -= per) {
    list.push(startHolder({ url, count: Math.min(per, left), batch, loginStart, maxLifetimeMs: 180_000 }));
  }
  try {
    const reports = await Promise.all(list.map((h) => h.ready));
    return { list, reports, connectMs: Math.round(performance.now() - started) };
  } catch (err) {
    await Promise.all(list.map((h) => h.close()));
    throw err;
  }
}

/** GC, settle, read; three rounds, the last one counts (RSS shrinks lazily after a GC). */
async function readSettled(server: ServerHandle) {
  let memory: NodeJS.MemoryUsage | undefined;
  for (let i = 0; i < 3; i++) {
    memory = await server.collectGarbage();
    await sleep(300);
  }
  return {
    rss: await server.readRssBytes(),
    heapUsed: memory?.heapUsed ?? 0,
    heapFree: (memory?.heapTotal ?? 0) - (memory?.heapUsed ?? 0),
  };
}

async function measure(
  server: ServerHandle,
  options: MemoryBenchOptions,
  loginStart: boolean,
): Promise<MemoryMeasurement> {
  const errors: Record<string, number> = {};
  // Warm-up: the first connections load and compile code paths; that is not per-socket memory.
  const warm = await openSockets(server.url, WARMUP_SOCKETS, 1, options.batch, loginStart);
  for (const h of warm.list) mergeErrors(errors, await h.close());
  warm.reports.forEach((r) => mergeErrors(errors, r.errors));
  await sleep(500);
  const before = await readSettled(server);

  const held = await openSockets(server.url, options.sockets, options.holders, options.batch, loginStart);
  held.reports.forEach((r) => mergeErrors(errors, r.errors));
  await sleep(1000);
  const after = await readSettled(server);
  for (const h of held.list) mergeErrors(errors, await h.close());

  const connected = held.reports.reduce((n, r) => n + r.connected, 0);
  const loginStarts = held.reports.reduce((n, r) => n + r.started, 0);
  const perSocket = (delta: number) => Math.round(delta / Math.max(1, connected));
  return {
    server: server.name,
    sockets: options.sockets,
    connected,
    loginStarts,
    rssBeforeBytes: before.rss,
    rssAfterBytes: after.rss,
    heapUsedBeforeBytes: before.heapUsed,
    heapUsedAfterBytes: after.heapUsed,
    heapFreeBeforeBytes: before.heapFree,
    rssBytesPerSocket: perSocket(after.rss - before.rss),
    heapBytesPerSocket: perSocket(after.heapUsed - before.heapUsed),
    connectMs: held.connectMs,
    errors,
  };
}

export async function benchMemory(options: MemoryBenchOptions): Promise<MemoryBenchResult> {
  const bareServer = await startServer({ name: "bare Socket.IO server", script: "bench/bare-socket-server.ts" });
  let bare: MemoryMeasurement;
  try {
    bare = await measure(bareServer, options, false);
  } finally {
    await bareServer.stop();
  }

  const dataDir = await createTempDir("memory");
  const oursServer = await startServer({
    name: "our server (API_ONLY)",
    script: "server/index.ts",
    isApp: true,
    env: (port) => appServerEnv(port, dataDir, { apiOnly: true }),
  });
  let ours: MemoryMeasurement;
  try {
    ours = await measure(oursServer, options, true);
  } finally {
    await oursServer.stop();
  }
  const ratio = Math.round((ours.rssBytesPerSocket / Math.max(1, bare.rssBytesPerSocket)) * 100) / 100;
  const heapRatio = Math.round((ours.heapBytesPerSocket / Math.max(1, bare.heapBytesPerSocket)) * 100) / 100;
  return { ours, bare, ratio, heapRatio };
}
