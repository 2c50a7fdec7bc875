/**
 * The data fetches peer in the bench: starts bench/peers/web3-data-server.ts and drives it with
 * the data benchmark's own load generator (bench/data-fetch.ts --generator: it seeds the users
 * and registers the partner apps in the peer's database, then posts freshly signed requests).
 */
import path from "node:path";
import type { DataFetchLoadResult } from "../data-fetch";
import { ROOT, createTempDir, runGeneratorProcess, startServer } from "../server-process";

export interface Web3DataPeerResult {
  dataFetches: DataFetchLoadResult;
  serverCpuCores: number;
}

export async function benchWeb3DataPeer(options: {
  partners: number;
  seconds: number;
  warmupSeconds: number;
  users: number;
}): Promise<Web3DataPeerResult> {
  const dataDir = await createTempDir("web3-data-peer");
  const server = await startServer({
    name: "data peer (node:http + web3 recover + Prisma)",
    script: "bench/peers/web3-data-server.ts",
    env: { NODE_ENV: "production", DATA_DIR: dataDir },
  });
  try {
    let cpuAtStart: Promise<number> | undefined;
    let cpuAtEnd: Promise<number> | undefined;
    const dataFetches = await runGeneratorProcess<DataFetchLoadResult>({
      label: "data fetch load generator (web3 peer)",
      script: path.join(ROOT, "bench", "data-fetch.ts"),
      args: [
        "--generator",
        JSON.stringify({
          url: server.url,
          databaseUrl: `file:${path.join(dataDir, "app.db")}`,
          partners: options.partners,
          users: options.users,
          warmupMs: options.warmupSeconds * 1000,
          durationMs: options.seconds * 1000,
          drainMs: 5_000,
          timeoutMs: 10_000,
          presignedPerPartner: Math.ceil((3_000 * (options.seconds + options.warmupSeconds + 1)) / options.partners),
        }),
      ],
      budgetMs: (options.warmupSeconds + options.seconds) * 1000 + 125_000,
      onWindow: (phase) => {
        if (phase === "start") cpuAtStart = server.readCpuSeconds();
        else cpuAtEnd = server.readCpuSeconds();
      },
    });
    const cpuSeconds = cpuAtStart && cpuAtEnd ? (await cpuAtEnd) - (await cpuAtStart) : 0;
    return { dataFetches, serverCpuCores: Math.round((cpuSeconds / options.seconds) * 100) / 100 };
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- peer output ---\n${server.output()}`, {
      cause: err,
    });
  } finally {
    await server.stop();
  }
}
