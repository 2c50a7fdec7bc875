import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { DEFAULT_LOGIN_LOAD } from "../login-load";
import { benchLogins, type LoginsBenchResult } from "../logins";
import { summarizeProfile } from "../profile-summary";
import { fmt, positiveFlag, ratio, type SectionContext, type SectionReport } from "../section";
import { ROOT } from "../server-process";
import type { Row } from "../table";
import { TARGETS } from "../targets";

export const name = "logins";

const BUILD_TIMEOUT_MS = 5 * 60_000;

/** Only this section serves pages, so only it needs `next build` (unless --skip-build). */
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

export async function run(context: SectionContext): Promise<SectionReport> {
  const { log, isProfiling, resultsDir } = context;
  if (!existsSync(path.join(ROOT, ".next", "BUILD_ID"))) {
    if (context.hasFlag("skip-build")) {
      const failures = { build: ".next/BUILD_ID is missing and --skip-build was given: run `npx next build` first" };
      return { rows: [], failures };
    }
    log("no production build (.next/BUILD_ID): running next build...");
    try {
      await runNextBuild();
    } catch (err) {
      return { rows: [], failures: { build: String(err instanceof Error ? err.message : err) } };
    }
  }
  const loginSeconds = positiveFlag(context, "login-seconds", DEFAULT_LOGIN_LOAD.durationMs / 1000);
  const load = { ...DEFAULT_LOGIN_LOAD, durationMs: Math.round(loginSeconds * 1000) };
  log(
    `HTTP peers (autocannon), then logins: ${load.pairs} browser+wallet pairs, ${load.warmupMs / 1000} s warm-up + ${load.durationMs / 1000} s...`,
  );
  const cpuProfilePath = isProfiling ? path.join(resultsDir, "server-logins.cpuprofile") : undefined;
  const logins = await benchLogins({
    load,
    http: { connections: 50, seconds: 5, warmupSeconds: 1 },
    ...(cpuProfilePath ? { cpuProfilePath } : {}),
  });
  const profile = cpuProfilePath ? await summarizeProfile(cpuProfilePath, 25) : undefined;
  return {
    rows: toRows(logins),
    results: { logins, ...(profile ? { profile } : {}) },
    notes: toNotes(logins),
    profiles: profile ? [{ title: "server profile over the login window", summary: profile }] : [],
  };
}

function toRows(logins: LoginsBenchResult): Row[] {
  const { apiHealth, nextPing } = logins;
  const l = logins.logins;
  const httpErrors = (t: typeof apiHealth) => t.errors + t.timeouts + t.non2xx;
  return [
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
  ];
}

function toNotes(logins: LoginsBenchResult): string[] {
  const l = logins.logins;
  const notes = [
    `logins: ${fmt(l.logins)} in ${l.durationMs / 1000} s (${fmt(l.loginsTotal)} incl. warm-up/drain); full login p50 ${fmt(l.fullLogin.p50, 1)} ms, p99 ${fmt(l.fullLogin.p99, 1)} ms; ` +
      `browser heard "approved" before the wallet's 200 in ${fmt(l.browserFirstShare * 100, 1)}% (those latencies are negative); ` +
      `server: ${logins.serverCpuCores} cores of CPU, event loop busy ${fmt(logins.serverEventLoopBusy * 100)}% of the window` +
      `${logins.serverEventLoopBusy >= 0.95 && logins.serverCpuCores < 0.9 ? " (busy on under 0.9 core: the machine's other load took CPU it wanted)" : ""}; ` +
      `load generator: ${l.generatorCpuCores} cores; wallet signer: ${l.signer}`,
  ];
  if (l.errorCount > 0) notes.push(`login errors: ${JSON.stringify(l.errors)}`);
  if (l.httpRetries > 0) notes.push(`login HTTP requests retried after a keep-alive reset: ${l.httpRetries}`);
  if (l.connectionsOpenedInWindow > 0) {
    notes.push(
      `the wallets had to open ${l.connectionsOpenedInWindow} new HTTP connections inside the window; a saturated server accepts one per event-loop iteration, so those requests waited`,
    );
  }
  return notes;
}
