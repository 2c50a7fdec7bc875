/**
 * The logins peer in the bench: builds bench/peers/siwe-next once, starts it (siwe-next-server.ts)
 * and drives it with bench/login-load.ts (`peer: "siwe-next"`), reading its CPU over the window.
 */
import type { LoginLoadOptions } from "../login-load";
import { createTempDir, startServer } from "../server-process";
import { measureLogins, type TopologyResult } from "../topologies";
import { buildSiwePeer } from "./siwe-next-server";

export type SiwePeerResult = Pick<TopologyResult, "logins" | "cpuMsPerLogin" | "cpuCores">;

export async function benchSiwePeer(load: Omit<LoginLoadOptions, "url">): Promise<SiwePeerResult> {
  await buildSiwePeer();
  const dataDir = await createTempDir("siwe-peer");
  const server = await startServer({
    name: "siwe peer (Next route handlers)",
    script: "bench/peers/siwe-next-server.ts",
    env: { NODE_ENV: "production", DATA_DIR: dataDir, NEXT_TELEMETRY_DISABLED: "1" },
  });
  try {
    return await measureLogins(
      server.url,
      { ...load, peer: "siwe-next" },
      {
        nodes: [server.pid],
        postgres: async () => [],
        redis: [],
        balancer: [],
      },
    );
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- peer output ---\n${server.output()}`, {
      cause: err,
    });
  } finally {
    await server.stop();
  }
}
