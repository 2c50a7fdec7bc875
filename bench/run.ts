/**
 * `npm run bench`: every benchmark, each figure beside its peer measured in the same run, one
 * table on stdout and the whole result as JSON in bench/results/latest.json. See bench/README.md.
 *
 * Flags: --skip-build (never run `next build`), --only=recovery,logins,memory,widget,data,channels,
 * --cpu-prof (profile the server over the login and data windows and the channels benchmark's auth and
 * steady fan-out phases; the profiler slows it, so figures from such a run are marked),
 * --sockets=N (memory benchmark size, default 10000), --login-seconds=N (default 10).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { benchRecovery } from "./recovery";
import { measureWidgetSize } from "./widget-size";
import { benchDataFetches, toDataFetchRows } from "./data-fetch";
import { benchLogins, type LoginsBenchResult } from "./logins";
import { benchMemory, type MemoryBenchResult } from "./memory";
import { benchChannels, channelsNotes, toChannelRows, type ChannelsBenchResult } from "./channels";
import { DEFAULT_LOGIN_LOAD } from "./login-load";
import { formatProfileSummary, summarizeProfile, type ProfileSummary } from "./profile-summary";
import { ROOT, killAllChildren, removeTempDirs } from "./server-process";
import { formatTable, type Row } from "./table";

const RESULTS_DIR = path.join(ROOT, "bench", "results");
const WATCHDOG_MS = 8 * 60_000;
const BUILD_TIMEOUT_MS = 5 * 60_000;

const TARGETS = {
  recoveryPerSec: 10_000,
  recoveryVsEthers: 15,
  loginsPerSec: 1500,
  approveToBrowserP99Ms: 10,
  memoryVsBare: 1.3,
  channelsFanoutVsBare: 0.8,
  channelsSteadyP99Ms: 5,
} as const;

type Section = "recovery" | "logins" | "memory" | "widget" | "data" | "channels";
const SECTIONS: readonly Section[] = ["recovery", "logins", "memory", "widget", "data", "channels"];

function readFlag(name: string): string | undefined {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length);
}
const hasFlag = (name: string) => process.argv.includes(`--${name}`);
const positiveNumber = (value: string | undefined, fallback: number) => {
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
};

const only = readFlag("only")?.split(",") ?? [...SECTIONS];
const unknown = only.filter((s) => !SECTIONS.includes(s as Section));
if (unknown.length) {
  console.error(`unknown --only section(s): ${unknown.join(", ")} (known: ${SECTIONS.join(", ")})`);
  process.exit(2);
}
const wants = (section: Section) => only.includes(section);
const isProfiling = hasFlag("cpu-prof");
const socketCount = Math.round(positiveNumber(readFlag("sockets"), 10_000));
const loginSeconds = positiveNumber(readFlag("login-seconds"), DEFAULT_LOGIN_LOAD.durationMs / 1000);

let isCleaningUp = false;
async function cleanUp() {
  if (isCleaningUp) return;
  isCleaningUp = true;
  killAllChildren();
  await removeTempDirs();
}
const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${WATCHDOG_MS / 60_000} minutes, stopping`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
}

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);

function runNextBuild(): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "node_modules", "next", "dist", "bin", "next"), "build"], {
      cwd: ROOT,
      stdio: ["ignore", "inherit", "inherit"],
      env: { ...process.env, NODE_ENV: "production" },
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), BUILD_TIMEOUT_MS);
    child.once("exit", (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`next build failed (${code})`));
    });
  });
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);

async function main() {
  const startedAt = new Date();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    totalMemoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: os.loadavg().map((n) => Math.round(n * 100) / 100),
  };
  log(`${machine.cpus} cores, load average ${machine.loadAverageAtStart.join(" ")}, Node ${machine.node}`);
  const rows: Row[] = [];
  const failures: Record<string, string> = {};
  const results: {
    recovery?: Awaited<ReturnType<typeof benchRecovery>>;
    logins?: LoginsBenchResult;
    memory?: MemoryBenchResult;
    channels?: ChannelsBenchResult;
    /** Summaries of the channels benchmark's server profiles (--cpu-prof), by what they cover. */
    channelsProfiles?: Record<string, ProfileSummary>;
    profile?: ProfileSummary;
    dataProfile?: ProfileSummary;
  } = {};

  if (wants("widget")) {
    log("widget bundle size (components/qr-login public entry, without React)...");
    try {
      const size = await measureWidgetSize();
      rows.push({
        section: "widget",
        figure: "QrLogin bundle, minified + gzip, without React",
        value: `${(size.gzipBytes / 1024).toFixed(2)} KB`,
        peer: "minified, not compressed",
        peerValue: `${(size.bytes / 1024).toFixed(2)} KB`,
        ratio: null,
        target: "<= 25 KB gzipped",
        meets: size.gzipBytes <= 25 * 1024,
      });
    } catch (err) {
      failures.widget = String(err instanceof Error ? (err.stack ?? err.message) : err);
    }
  }

  if (wants("data")) {
    log("signed partner data fetches (users, limit 20, 50 partners) beside recovery and /api/health...");
    try {
      await mkdir(RESULTS_DIR, { recursive: true });
      const cpuProfilePath = isProfiling ? path.join(RESULTS_DIR, "server-data.cpuprofile") : undefined;
      rows.push(...toDataFetchRows(await benchDataFetches(cpuProfilePath ? { cpuProfilePath } : {})));
      if (cpuProfilePath) results.dataProfile = await summarizeProfile(cpuProfilePath, 25);
    } catch (err) {
      failures.data = String(err instanceof Error ? (err.stack ?? err.message) : err);
    }
  }

  if (wants("recovery")) {
    log("signature recovery (ours vs ethers.verifyMessage, one thread)...");
    try {
      const recovery = await benchRecovery({ seconds: 2 });
      results.recovery = recovery;
      const [ethersRow, oursRow, ...others] = recovery.rows;
      if (!ethersRow || !oursRow) throw new Error("benchRecovery returned fewer than two rows");
      rows.push({
        section: "recovery",
        figure: `recoveries/s per core: ${oursRow.name}`,
        value: `${fmt(oursRow.opsPerSec)}/s`,
        peer: ethersRow.name,
        peerValue: `${fmt(ethersRow.opsPerSec)}/s`,
        ratio: recovery.ratio,
        target: `>= ${fmt(TARGETS.recoveryPerSec)}/s, >= ${TARGETS.recoveryVsEthers}x`,
        meets: oursRow.opsPerSec >= TARGETS.recoveryPerSec && recovery.ratio >= TARGETS.recoveryVsEthers,
      });
      for (const other of others) {
        rows.push({
          section: "recovery",
          figure: `recoveries/s per core: ${other.name}`,
          value: `${fmt(other.opsPerSec)}/s`,
          peer: ethersRow.name,
          peerValue: `${fmt(ethersRow.opsPerSec)}/s`,
          ratio: ratio(other.opsPerSec, ethersRow.opsPerSec),
          target: "(fallback, info)",
          meets: null,
        });
      }
    } catch (err) {
      failures.recovery = String(err instanceof Error ? (err.stack ?? err.message) : err);
    }
  }

  // Only the login benchmark serves pages; the memory one runs API_ONLY.
  if (wants("logins")) {
    if (!existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
      if (hasFlag("skip-build")) {
        failures.build = ".next/BUILD_ID is missing and --skip-build was given: run `npx next build` first";
      } else {
        log("no production build (.next/BUILD_ID): running next build...");
        try {
          await runNextBuild();
        } catch (err) {
          failures.build = String(err instanceof Error ? err.message : err);
        }
      }
    }
  }

  if (wants("logins") && !failures.build) {
    const load = { ...DEFAULT_LOGIN_LOAD, durationMs: Math.round(loginSeconds * 1000) };
    log(
      `HTTP peers (autocannon), then logins: ${load.pairs} browser+wallet pairs, ${load.warmupMs / 1000} s warm-up + ${load.durationMs / 1000} s...`,
    );
    try {
      await mkdir(RESULTS_DIR, { recursive: true });
      const cpuProfilePath = isProfiling ? path.join(RESULTS_DIR, "server-logins.cpuprofile") : undefined;
      const logins = await benchLogins({
        load,
        http: { connections: 50, seconds: 5, warmupSeconds: 1 },
        ...(cpuProfilePath ? { cpuProfilePath } : {}),
      });
      results.logins = logins;
      const { apiHealth, nextPing } = logins;
      const l = logins.logins;
      const httpErrors = (t: typeof apiHealth) => t.errors + t.timeouts + t.non2xx;
      rows.push(
        {
          section: "http",
          figure: `req/s GET /api/health (Hono router), ${apiHealth.connections} conns`,
          value: `${fmt(apiHealth.requestsPerSec)}/s`,
          peer: "GET /next-ping (Next route handler)",
          peerValue: `${fmt(nextPing.requestsPerSec)}/s`,
          ratio: ratio(apiHealth.requestsPerSec, nextPing.requestsPerSec),
          target: "(peer, info)",
          meets: null,
        },
        {
          section: "logins",
          figure: `complete logins/s, ${l.connectedPairs} pairs`,
          value: `${fmt(l.loginsPerSec)}/s`,
          peer: "GET /next-ping req/s",
          peerValue: `${fmt(nextPing.requestsPerSec)}/s`,
          ratio: ratio(l.loginsPerSec, nextPing.requestsPerSec),
          target: `>= ${fmt(TARGETS.loginsPerSec)}/s`,
          meets: l.loginsPerSec >= TARGETS.loginsPerSec,
        },
        {
          section: "logins",
          figure: "approve -> browser p50 (wallet 200 -> login:state)",
          value: `${fmt(l.approveToBrowser.p50, 2)} ms`,
          peer: "GET /next-ping p50 latency",
          peerValue: `${fmt(nextPing.latencyP50Ms, 2)} ms`,
          ratio: null,
          target: "(info)",
          meets: null,
        },
        {
          section: "logins",
          figure: "approve -> browser p99",
          value: `${fmt(l.approveToBrowser.p99, 2)} ms`,
          peer: "GET /next-ping p99 latency",
          peerValue: `${fmt(nextPing.latencyP99Ms, 2)} ms`,
          ratio: null,
          target: `<= ${TARGETS.approveToBrowserP99Ms} ms`,
          meets: l.approveToBrowser.count > 0 && l.approveToBrowser.p99 <= TARGETS.approveToBrowserP99Ms,
        },
        {
          section: "logins",
          figure: "wallet POST sent -> browser login:state p99",
          value: `${fmt(l.postToBrowser.p99, 2)} ms`,
          peer: "GET /next-ping p99 latency",
          peerValue: `${fmt(nextPing.latencyP99Ms, 2)} ms`,
          ratio: null,
          target: "(info)",
          meets: null,
        },
        {
          section: "logins",
          figure: "login errors (whole run)",
          value: fmt(l.errorCount),
          peer: "autocannon errors+non-2xx (both routes)",
          peerValue: fmt(httpErrors(apiHealth) + httpErrors(nextPing)),
          ratio: null,
          target: "0",
          meets: l.errorCount === 0 && httpErrors(apiHealth) + httpErrors(nextPing) === 0,
        },
      );
      if (cpuProfilePath) {
        results.profile = await summarizeProfile(cpuProfilePath, 25);
      }
    } catch (err) {
      failures.logins = String(err instanceof Error ? (err.stack ?? err.message) : err);
    }
  }

  if (wants("memory")) {
    log(
      `memory: ${fmt(socketCount)} idle sockets on the bare Socket.IO server, then on ours (each did login:start)...`,
    );
    try {
      const memory = await benchMemory({ sockets: socketCount, holders: 4, batch: 50 });
      results.memory = memory;
      const memoryErrors = [memory.ours, memory.bare].reduce(
        (n, m) => n + Object.values(m.errors).reduce((a, b) => a + b, 0) + (m.sockets - m.connected),
        0,
      );
      rows.push(
        {
          section: "memory",
          figure: `RSS per idle socket, ours (login:start), ${fmt(memory.ours.connected)} open`,
          value: `${fmt(memory.ours.rssBytesPerSocket)} B`,
          peer: `bare Socket.IO, ${fmt(memory.bare.connected)} open`,
          peerValue: `${fmt(memory.bare.rssBytesPerSocket)} B`,
          ratio: memory.ratio,
          target: `<= ${TARGETS.memoryVsBare}x`,
          meets: memory.ratio <= TARGETS.memoryVsBare && memoryErrors === 0 && memory.ours.loginStarts === socketCount,
        },
        {
          section: "memory",
          figure: "JS heap per idle socket, ours (cross-check)",
          value: `${fmt(memory.ours.heapBytesPerSocket)} B`,
          peer: "bare Socket.IO",
          peerValue: `${fmt(memory.bare.heapBytesPerSocket)} B`,
          ratio: memory.heapRatio,
          target: `<= ${TARGETS.memoryVsBare}x`,
          meets: memory.heapRatio <= TARGETS.memoryVsBare,
        },
        {
          section: "memory",
          figure: "connect/login:start errors",
          value: fmt(memoryErrors),
          peer: "",
          peerValue: "",
          ratio: null,
          target: "0",
          meets: memoryErrors === 0,
        },
      );
    } catch (err) {
      failures.memory = String(err instanceof Error ? (err.stack ?? err.message) : err);
    }
  }

  if (wants("channels")) {
    log("channels: fan-out, channel auth and presence churn, ours beside a bare Socket.IO server...");
    try {
      await mkdir(RESULTS_DIR, { recursive: true });
      const channels = await benchChannels({ log, ...(isProfiling ? { cpuProfileDir: RESULTS_DIR } : {}) });
      results.channels = channels;
      rows.push(
        ...toChannelRows(channels, {
          fanoutVsBare: TARGETS.channelsFanoutVsBare,
          steadyP99Ms: TARGETS.channelsSteadyP99Ms,
        }),
      );
      for (const [what, file] of Object.entries(channels.cpuProfiles)) {
        results.channelsProfiles = { ...results.channelsProfiles, [what]: await summarizeProfile(file, 25) };
      }
    } catch (err) {
      failures.channels = String(err instanceof Error ? (err.stack ?? err.message) : err);
    }
  }

  const finishedAt = new Date();
  const report = {
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine: { ...machine, loadAverageAtEnd: os.loadavg().map((n) => Math.round(n * 100) / 100) },
    profiled: isProfiling,
    targets: TARGETS,
    table: rows,
    results,
    failures,
  };
  await mkdir(RESULTS_DIR, { recursive: true });
  const jsonPath = path.join(RESULTS_DIR, "latest.json");
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);

  console.log("");
  console.log(formatTable(rows));
  console.log("");
  const notes: string[] = [];
  if (results.logins) {
    const l = results.logins.logins;
    notes.push(
      `logins: ${fmt(l.logins)} in ${l.durationMs / 1000} s (${fmt(l.loginsTotal)} incl. warm-up/drain); full login p50 ${fmt(l.fullLogin.p50, 1)} ms, p99 ${fmt(l.fullLogin.p99, 1)} ms; ` +
        `browser heard "approved" before the wallet's 200 in ${fmt(l.browserFirstShare * 100, 1)}% (those latencies are negative); ` +
        `server: ${results.logins.serverCpuCores} cores of CPU, event loop busy ${fmt(results.logins.serverEventLoopBusy * 100)}% of the window` +
        `${results.logins.serverEventLoopBusy >= 0.95 && results.logins.serverCpuCores < 0.9 ? " (busy on under 0.9 core: the machine's other load took CPU it wanted)" : ""}; ` +
        `load generator: ${l.generatorCpuCores} cores; wallet signer: ${l.signer}`,
    );
    if (l.errorCount > 0) notes.push(`login errors: ${JSON.stringify(l.errors)}`);
    if (l.httpRetries > 0) notes.push(`login HTTP requests retried after a keep-alive reset: ${l.httpRetries}`);
    if (l.connectionsOpenedInWindow > 0) {
      notes.push(
        `the wallets had to open ${l.connectionsOpenedInWindow} new HTTP connections inside the window; a saturated server accepts one per event-loop iteration, so those requests waited`,
      );
    }
  }
  if (results.memory) {
    const { ours, bare } = results.memory;
    const mb = (b: number) => `${fmt(b / 2 ** 20, 1)} MB`;
    notes.push(
      `memory: bare RSS ${mb(bare.rssBeforeBytes)} -> ${mb(bare.rssAfterBytes)}; ours ${mb(ours.rssBeforeBytes)} -> ${mb(ours.rssAfterBytes)} (API_ONLY, memory stores); after forced GC. ` +
        `Free V8 heap at the baseline: ours ${mb(ours.heapFreeBeforeBytes)}, bare ${mb(bare.heapFreeBeforeBytes)}; new sockets fill it before RSS grows, so RSS per socket flatters the process with more of it, and the JS heap row is the cross-check`,
    );
  }
  if (results.channels) notes.push(...channelsNotes(results.channels));
  notes.push(
    `machine: ${machine.cpus} cores, load average ${machine.loadAverageAtStart.join(" ")} at start, ${report.machine.loadAverageAtEnd.join(" ")} at end; ${report.durationSeconds} s in all`,
  );
  if (isProfiling) notes.push("PROFILED RUN: the server ran under the CPU profiler; its figures are lower than usual");
  for (const note of notes) console.log(note);
  if (results.profile) {
    console.log("\nserver profile over the login window:");
    console.log(formatProfileSummary(results.profile));
  }
  if (results.dataProfile) {
    console.log("\nserver profile over the data-fetch window:");
    console.log(formatProfileSummary(results.dataProfile));
  }
  for (const [what, summary] of Object.entries(results.channelsProfiles ?? {})) {
    console.log(`\nserver profile, channels, ${what}:`);
    console.log(formatProfileSummary(summary));
  }
  for (const [section, message] of Object.entries(failures)) console.log(`\nFAILED ${section}: ${message}`);
  console.log(`\nJSON: ${path.relative(ROOT, jsonPath)}`);
  return Object.keys(failures).length === 0;
}

main().then(
  async (isOk) => {
    await cleanUp();
    process.exit(isOk ? 0 : 1);
  },
  async (err: unknown) => {
    console.error(err);
    await cleanUp();
    process.exit(1);
  },
);
