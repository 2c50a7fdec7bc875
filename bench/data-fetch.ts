/**
 * Signed data fetches per second (docs/protocol.md section 3) on the production server, API only:
 * `partners` concurrent partner servers, each an app registered beforehand with its own key, loop
 *
 *   POST /api/data/users with a fresh signed message (iat now, exp +5 min, random nonce, metaData
 *   {limit 20, page 1}, signed with native libsecp256k1, bench/native-signer.ts) -> 200 with 20 users
 *
 * Each partner signs its messages before the clock starts (each is sent once): signing is the
 * partner's CPU, and here it would take the core the server is measured on.
 *
 * Beside it, in the same run: the bare recovery rate (bench/recovery.ts, EIP-191 hash + native
 * recovery per CPU-second of one thread: the floor of what every verified fetch costs) and the API
 * router's trivial route (GET /api/health, autocannon, same server). Target: fetches/s >= 0.6x the
 * bare recovery rate.
 *
 * The load generator is this file run as its own process (`--generator`), so the server and the
 * generator each have a core; it registers the apps straight in the server's SQLite database
 * (with a rate limit the benchmark never reaches) and seeds `users` users, then measures.
 *
 * In `npm run bench` (section `data`): --data-seconds=5, --partners=50.
 */
import { Agent, request } from "node:http";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { hashPersonalMessage, toHex } from "../server/crypto/eip191";
import { measureThroughput, type ThroughputResult } from "./http-throughput";
import { checkBenchSigner, createBenchWallet, signerBackend } from "./native-signer";
import { benchRecovery, type RecoveryBenchResult } from "./recovery";
import { appServerEnv, createTempDir, runGeneratorProcess, startServer, type ServerHandle } from "./server-process";
import { startLoadWindow } from "./load-window";
import { countError as countErrorIn, nearestRank, roundTo, sumErrors } from "./stats";

export interface DataFetchBenchOptions {
  partners?: number;
  seconds?: number;
  warmupSeconds?: number;
  /** Users in the database (the page read is 20 of them). */
  users?: number;
  recoverySeconds?: number;
  /** Target: fetches/s over the bare recovery rate. */
  target?: number;
  /** Write a CPU profile of the server over the measured window to this file. */
  cpuProfilePath?: string;
}

interface GeneratorOptions {
  url: string;
  databaseUrl: string;
  partners: number;
  users: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
  timeoutMs: number;
  presignedPerPartner: number;
}

export interface DataFetchLoadResult {
  partners: number;
  signer: string;
  durationMs: number;
  /** 200s answered inside the measured window. */
  fetches: number;
  fetchesPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  /** Non-200 answers and failures over the whole run, by code. */
  errors: Record<string, number>;
  errorCount: number;
  generatorCpuCores: number;
  /** Bodies signed before the clock started, and those signed during the run after a partner ran out. */
  presigned: number;
  signedInline: number;
}

export interface DataFetchBenchResult {
  dataFetches: DataFetchLoadResult;
  apiHealth: ThroughputResult;
  recovery: RecoveryBenchResult;
  /** ops per CPU-second of the backend the server uses (native where it loaded). */
  bareRecoveryPerSec: number;
  ratioToRecovery: number;
  ratioToHealth: number;
  serverCpuCores: number;
  /**
   * Fetches per CPU-second the server used: comparable with the recovery figure (also per
   * CPU-second) when other processes take the machine's cores away from the server.
   */
  fetchesPerServerCpuSecond: number;
  cpuRatioToRecovery: number;
  target: number;
  meetsTarget: boolean;
  cpuProfilePath?: string;
}

const DEFAULTS = { partners: 50, seconds: 5, warmupSeconds: 1, users: 200, recoverySeconds: 2, target: 0.6 };
const SELF = fileURLToPath(import.meta.url);
export const PAGE_LIMIT = 20;
const MESSAGE_TTL_SECONDS = 300;

const round2 = (value: number) => roundTo(value, 2);

// ---------------------------------------------------------------- the load generator (child)

async function seedDatabase(options: GeneratorOptions, addresses: string[]): Promise<string[]> {
  const [{ createDb }, { createApp }] = await Promise.all([
    import("../server/db/client"),
    import("../server/data/apps"),
  ]);
  const { prisma, close } = await createDb({ url: options.databaseUrl });
  try {
    const existing = await prisma.user.count();
    const createdAt = Date.now() - 86_400_000;
    for (let i = existing; i < options.users; i++) {
      await prisma.user.create({
        data: { address: createBenchWallet().address, claims: {}, createdAt: new Date(createdAt + i * 1000) },
      });
    }
    const appIds: string[] = [];
    for (const [index, address] of addresses.entries()) {
      const created = await createApp(prisma, {
        name: `bench partner ${index + 1}`,
        address,
        ownerUserId: null,
        rateLimitPerMinute: 1_000_000_000,
      });
      if (!created.ok) throw new Error(`could not register bench app ${index + 1}`);
      appIds.push(created.app.id);
    }
    return appIds;
  } finally {
    await close();
  }
}

export async function runDataFetchLoad(options: GeneratorOptions): Promise<DataFetchLoadResult> {
  checkBenchSigner();
  const wallets = Array.from({ length: options.partners }, () => createBenchWallet());
  const appIds = await seedDatabase(
    options,
    wallets.map((wallet) => wallet.address),
  );
  const base = new URL(options.url);
  // Keep-alive, one connection per partner, opened before the clock starts (as bench/login-load.ts).
  const agent = new Agent({ keepAlive: true, maxSockets: options.partners, timeout: 4000, scheduling: "fifo" });
  const errors: Record<string, number> = {};
  const countError = (kind: string) => countErrorIn(errors, kind);

  function signBody(partner: number): string {
    const wallet = wallets[partner]!;
    const iat = Math.floor(Date.now() / 1000);
    const message = {
      appId: appIds[partner]!,
      iat,
      exp: iat + MESSAGE_TTL_SECONDS,
      nonce: Math.random().toString(36).slice(2),
      metaData: { limit: PAGE_LIMIT, page: 1 },
    };
    const text = JSON.stringify(message);
    // The SDK sends messageHash too; the server compares it with its own hash.
    return JSON.stringify({
      message,
      fyresign: wallet.signPersonal(text),
      messageHash: toHex(hashPersonalMessage(text)),
    });
  }

  function post(payload: string): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
      const req = request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method: "POST",
          path: "/api/data/users",
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("error", reject);
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
        },
      );
      req.setTimeout(options.timeoutMs, () => req.destroy(new Error("timeout")));
      req.on("error", reject);
      req.end(payload);
    });
  }

  // Partners sign their requests ahead, before the clock starts: a partner's signing is its own
  // CPU, not the server's, and on this shared machine it would otherwise take the core the server
  // is measured on. Each body is still fresh (iat now, exp +5 min, its own nonce) and sent once;
  // a partner that runs out signs inline (counted in `signedInline`).
  const presigned: string[][] = wallets.map((_, partner) =>
    Array.from({ length: options.presignedPerPartner }, () => signBody(partner)),
  );
  let signedInline = 0;
  const nextBody = (partner: number) => {
    const body = presigned[partner]!.pop();
    if (body !== undefined) return body;
    signedInline++;
    return signBody(partner);
  };

  let checked = 0;
  async function fetchOnce(partner: number): Promise<boolean> {
    const { status, body } = await post(nextBody(partner));
    if (status !== 200) {
      let code = `HTTP ${status}`;
      try {
        code = (JSON.parse(body) as { error?: { code?: string } }).error?.code ?? code;
      } catch {
        // not JSON: keep the status
      }
      countError(code);
      return false;
    }
    // Parsing every 5 KB page would cost this process more than the server; check a sample.
    if (checked++ % 200 === 0) {
      const page = JSON.parse(body) as { data?: unknown[]; meta?: { limit?: number } };
      if (page.data?.length !== Math.min(PAGE_LIMIT, options.users) || page.meta?.limit !== PAGE_LIMIT) {
        countError("wrong page");
        return false;
      }
    }
    return true;
  }

  // Open every connection (and warm the app cache) before the clock starts.
  await Promise.all(wallets.map((_, partner) => fetchOnce(partner)));

  const start = performance.now();
  const windowStart = start + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  const latencies: number[] = [];
  let fetches = 0;
  const measured = startLoadWindow(options);

  async function runPartner(partner: number): Promise<void> {
    while (performance.now() < windowEnd) {
      const sentAt = performance.now();
      try {
        const isOk = await fetchOnce(partner);
        const at = performance.now();
        if (isOk && sentAt >= windowStart && at <= windowEnd) {
          fetches++;
          latencies.push(at - sentAt);
        }
      } catch (err) {
        countError(`failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  let drainTimer: NodeJS.Timeout | undefined;
  const isDrained = await Promise.race([
    Promise.all(wallets.map((_, partner) => runPartner(partner))).then(() => true),
    new Promise<boolean>((resolve) => {
      drainTimer = setTimeout(() => resolve(false), options.warmupMs + options.durationMs + options.drainMs);
    }),
  ]);
  clearTimeout(drainTimer);
  measured.stop();
  if (!isDrained) countError("requests still in flight at the drain deadline");
  agent.destroy();

  latencies.sort((a, b) => a - b);
  return {
    partners: options.partners,
    signer: signerBackend,
    durationMs: options.durationMs,
    fetches,
    fetchesPerSec: Math.round((fetches * 1000) / options.durationMs),
    latencyP50Ms: round2(nearestRank(latencies, 0.5)),
    latencyP99Ms: round2(nearestRank(latencies, 0.99)),
    errors,
    errorCount: sumErrors(errors),
    generatorCpuCores: measured.cpuCores(),
    presigned: options.presignedPerPartner * options.partners,
    signedInline,
  };
}

// ---------------------------------------------------------------- the benchmark (parent)

function runGenerator(
  options: GeneratorOptions,
  onWindow: (phase: "start" | "end") => void,
): Promise<DataFetchLoadResult> {
  return runGeneratorProcess<DataFetchLoadResult>({
    label: "data fetch load generator",
    script: SELF,
    args: ["--generator", JSON.stringify(options)],
    budgetMs: options.warmupMs + options.durationMs + options.drainMs + 120_000,
    onWindow,
  });
}

export async function benchDataFetches(given: DataFetchBenchOptions = {}): Promise<DataFetchBenchResult> {
  const options = { ...DEFAULTS, ...given };
  // First, alone on the machine: the bare recovery rate this benchmark is held against.
  const recovery = await benchRecovery({ seconds: options.recoverySeconds });
  const bareRow = recovery.rows[1];
  if (!bareRow) throw new Error("benchRecovery returned no row for our backend");

  const dataDir = await createTempDir("data");
  const server: ServerHandle = await startServer({
    name: "our server (API only)",
    script: "server/index.ts",
    isApp: true,
    env: (port) => appServerEnv(port, dataDir, { apiOnly: true }),
  });
  try {
    const apiHealth = await measureThroughput(`${server.url}/api/health`, {
      connections: options.partners,
      seconds: options.seconds,
      warmupSeconds: options.warmupSeconds,
    });
    let cpuAtStart: Promise<number> | undefined;
    let cpuAtEnd: Promise<number> | undefined;
    const profiling: Array<Promise<void>> = [];
    const { cpuProfilePath } = options;
    const dataFetches = await runGenerator(
      {
        url: server.url,
        databaseUrl: `file:${path.join(dataDir, "app.db")}`,
        partners: options.partners,
        users: options.users,
        warmupMs: options.warmupSeconds * 1000,
        durationMs: options.seconds * 1000,
        drainMs: 5_000,
        timeoutMs: 10_000,
        // Enough for 12,000 fetches/s over the warm-up and the window.
        presignedPerPartner: Math.ceil((12_000 * (options.seconds + options.warmupSeconds + 1)) / options.partners),
      },
      (phase) => {
        if (phase === "start") {
          cpuAtStart = server.readCpuSeconds();
          if (cpuProfilePath) profiling.push(server.startProfile());
        } else {
          cpuAtEnd = server.readCpuSeconds();
          if (cpuProfilePath) profiling.push(server.stopProfile(cpuProfilePath));
        }
      },
    );
    await Promise.all(profiling);
    const serverCpuSeconds = cpuAtStart && cpuAtEnd ? (await cpuAtEnd) - (await cpuAtStart) : 0;
    const ratioToRecovery = round2(dataFetches.fetchesPerSec / bareRow.opsPerSec);
    const fetchesPerServerCpuSecond = serverCpuSeconds > 0 ? Math.round(dataFetches.fetches / serverCpuSeconds) : 0;
    return {
      dataFetches,
      apiHealth,
      recovery,
      bareRecoveryPerSec: bareRow.opsPerSec,
      ratioToRecovery,
      ratioToHealth: round2(dataFetches.fetchesPerSec / Math.max(1, apiHealth.requestsPerSec)),
      serverCpuCores: round2(serverCpuSeconds / options.seconds),
      fetchesPerServerCpuSecond,
      cpuRatioToRecovery: round2(fetchesPerServerCpuSecond / bareRow.opsPerSec),
      target: options.target,
      meetsTarget: ratioToRecovery >= options.target && dataFetches.errorCount === 0,
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

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain && process.argv[2] === "--generator") {
  const result = await runDataFetchLoad(JSON.parse(process.argv[3] ?? "{}") as GeneratorOptions);
  if (process.send) process.send({ type: "result", result }, () => process.exit(0));
  else console.log(JSON.stringify(result, null, 2));
}
