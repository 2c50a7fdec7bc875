/**
 * The soak: one node (SQLite + memory stores, API only) takes logins at half its measured
 * capacity for a while, then sits idle past every session's lifetime; the JS heap after a forced
 * GC and the RSS are sampled throughout. Anything kept per login and never released shows as a
 * heap after the idle phase above the heap after warm-up.
 *
 * Lifetimes here: LOGIN_TTL_SECONDS=60, so a finished session is forgotten at most
 * 60 s (code) + 120 s (kept after its end) after it started, and the memory store sweeps every
 * 10 s; rate-limit windows last 60 s. The default idle phase (200 s) outlasts all of them.
 */
import type { LoginLoadOptions, LoginLoadResult } from "./login-load";
import { DEFAULT_LOGIN_LOAD } from "./login-load";
import { appServerEnv, createTempDir, runGeneratorProcess, startServer, ROOT } from "./server-process";
import path from "node:path";

export interface SoakOptions {
  /** Logins at half capacity for this long (after the generator's warm-up). */
  loadSeconds: number;
  /** Then idle this long. */
  idleSeconds: number;
  sampleSeconds: number;
  /** Pairs of the capacity probe and of the soak's open loop. */
  pairs: number;
  log?: (line: string) => void;
}

export interface SoakSample {
  /** Seconds since the load generator started. */
  at: number;
  phase: "warm-up" | "load" | "idle";
  heapUsedMb: number;
  rssMb: number;
}

export interface SoakResult {
  capacityPerSec: number;
  ratePerSec: number;
  load: LoginLoadResult;
  samples: SoakSample[];
  /** Heap after a forced GC at the end of the warm-up, and at the end of the idle phase. */
  heapAfterWarmupMb: number;
  heapAfterIdleMb: number;
  rssAfterWarmupMb: number;
  rssAfterIdleMb: number;
}

const LOAD_SCRIPT = path.join(ROOT, "bench", "login-load.ts");
const WARMUP_MS = 5_000;
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function benchSoak(options: SoakOptions): Promise<SoakResult> {
  const log = options.log ?? (() => {});
  const dataDir = await createTempDir("soak");
  const server = await startServer({
    name: "soak node (SQLite + memory)",
    script: "server/index.ts",
    isApp: true,
    env: (port) => ({ ...appServerEnv(port, dataDir, { apiOnly: true }), LOGIN_TTL_SECONDS: "60" }),
  });
  try {
    const base: Omit<LoginLoadOptions, "url"> = { ...DEFAULT_LOGIN_LOAD, pairs: options.pairs, drainMs: 5_000 };
    const probe = await runGeneratorProcess<LoginLoadResult>({
      label: "soak capacity probe",
      script: LOAD_SCRIPT,
      args: [JSON.stringify({ ...base, url: server.url, warmupMs: 1_000, durationMs: 4_000 })],
      budgetMs: 70_000,
      onWindow: () => {},
    });
    const ratePerSec = Math.max(1, Math.round(probe.loginsPerSec / 2));
    log(
      `soak: capacity ${probe.loginsPerSec}/s, ${ratePerSec}/s for ${options.loadSeconds} s, idle ${options.idleSeconds} s`,
    );

    const samples: SoakSample[] = [];
    const t0 = performance.now();
    let phase: SoakSample["phase"] = "warm-up";
    let isSampling = false;
    const sample = async () => {
      if (isSampling) return;
      isSampling = true;
      try {
        const memory = await server.collectGarbage();
        const rss = await server.readRssBytes();
        samples.push({
          at: Math.round((performance.now() - t0) / 100) / 10,
          phase,
          heapUsedMb: mb(memory.heapUsed),
          rssMb: mb(rss),
        });
      } finally {
        isSampling = false;
      }
    };
    await sample();
    const timer = setInterval(() => void sample().catch(() => {}), options.sampleSeconds * 1000);
    let afterWarmup: Promise<void> | undefined;
    try {
      const load = await runGeneratorProcess<LoginLoadResult>({
        label: "soak load generator",
        script: LOAD_SCRIPT,
        args: [
          JSON.stringify({
            ...base,
            url: server.url,
            ratePerSec,
            warmupMs: WARMUP_MS,
            durationMs: options.loadSeconds * 1000,
          }),
        ],
        budgetMs: WARMUP_MS + options.loadSeconds * 1000 + 70_000,
        onWindow: (p) => {
          if (p === "start") {
            afterWarmup = (async () => {
              while (isSampling) await sleep(20);
              await sample();
              phase = "load";
            })();
          }
        },
      });
      await afterWarmup;
      phase = "idle";
      await sample();
      log(`soak: ${load.loginsTotal} logins done, idle for ${options.idleSeconds} s...`);
      await sleep(options.idleSeconds * 1000);
      while (isSampling) await sleep(20);
      await sample();
      const warm = [...samples].reverse().find((s) => s.phase === "warm-up") ?? samples[0]!;
      const last = samples[samples.length - 1]!;
      return {
        capacityPerSec: probe.loginsPerSec,
        ratePerSec,
        load,
        samples,
        heapAfterWarmupMb: warm.heapUsedMb,
        heapAfterIdleMb: last.heapUsedMb,
        rssAfterWarmupMb: warm.rssMb,
        rssAfterIdleMb: last.rssMb,
      };
    } finally {
      clearInterval(timer);
    }
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server output ---\n${server.output()}`, {
      cause: err,
    });
  } finally {
    await server.stop();
  }
}
