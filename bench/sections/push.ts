/**
 * Push login (issue 16) beside the QR login in the same run, on one server (API only, SQLite +
 * memory stores): first the QR load generator (bench/login-load.ts), then the push one
 * (bench/push-load.ts), with the same number of pairs for the same time; the server's CPU is read
 * over each window. Then the widget's two sizes: the QR mode every page loads, the push chunk.
 */
import path from "node:path";
import { DEFAULT_LOGIN_LOAD, type LoginLoadResult } from "../login-load";
import { DEFAULT_PUSH_LOAD, type PushLoadResult } from "../push-load";
import { fmt, positiveFlag, ratio, type SectionContext, type SectionReport } from "../section";
import { ROOT, appServerEnv, createTempDir, runGeneratorProcess, startServer } from "../server-process";
import type { ServerHandle } from "../server-process";
import type { Row } from "../table";
import { WIDGET_GZIP_TARGET_BYTES, measureWidgetSize } from "../widget-size";

export const name = "push";

interface Measured<R> {
  load: R;
  /** Server CPU over the window, in ms per completed login. */
  serverCpuMsPerLogin: number;
}

/** Runs one generator against `server`, reading the server's CPU at its window's ends. */
async function measure<R extends { logins: number }>(
  server: ServerHandle,
  script: string,
  options: { pairs: number; warmupMs: number; durationMs: number; drainMs: number },
): Promise<Measured<R>> {
  let cpuAtStart: Promise<number> | undefined;
  let cpuAtEnd: Promise<number> | undefined;
  const load = await runGeneratorProcess<R>({
    label: `${path.basename(script)} generator`,
    script: path.join(ROOT, "bench", script),
    args: [JSON.stringify({ ...options, url: server.url })],
    budgetMs: options.warmupMs + options.durationMs + options.drainMs + 120_000,
    onWindow: (phase) => {
      if (phase === "start") cpuAtStart = server.readCpuSeconds();
      else cpuAtEnd = server.readCpuSeconds();
    },
  });
  const cpuSeconds = cpuAtStart && cpuAtEnd ? (await cpuAtEnd) - (await cpuAtStart) : 0;
  return { load, serverCpuMsPerLogin: load.logins > 0 ? Math.round((cpuSeconds * 1e5) / load.logins) / 100 : 0 };
}

export async function run(context: SectionContext): Promise<SectionReport> {
  const { log } = context;
  const pairs = positiveFlag(context, "push-pairs", DEFAULT_PUSH_LOAD.pairs);
  const seconds = positiveFlag(context, "push-seconds", DEFAULT_PUSH_LOAD.durationMs / 1000);
  const window = { warmupMs: DEFAULT_PUSH_LOAD.warmupMs, durationMs: Math.round(seconds * 1000) };

  const dataDir = await createTempDir("push");
  const server = await startServer({
    name: "our server (push)",
    script: "server/index.ts",
    isApp: true,
    env: (port) => ({
      ...appServerEnv(port, dataDir, { apiOnly: true }),
      // The caps are what a person needs; every bench pair logs its one address in many times.
      PUSH_CAP_PER_10_MIN: "1000",
      PUSH_CAP_PER_HOUR: "10000",
    }),
  });
  let qr: Measured<LoginLoadResult>;
  let push: Measured<PushLoadResult>;
  try {
    log(`QR logins: ${pairs} browser+wallet pairs, ${window.warmupMs / 1000} s warm-up + ${seconds} s...`);
    qr = await measure(server, "login-load.ts", { ...DEFAULT_LOGIN_LOAD, ...window, pairs });
    log(
      `push logins: ${pairs} browser+phone pairs (paired devices), ${window.warmupMs / 1000} s warm-up + ${seconds} s...`,
    );
    push = await measure(server, "push-load.ts", { ...DEFAULT_PUSH_LOAD, ...window, pairs });
  } catch (err) {
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- server output ---\n${server.output()}`, {
      cause: err,
    });
  } finally {
    await server.stop();
  }
  log("widget sizes...");
  const size = await measureWidgetSize();

  const p = push.load;
  const q = qr.load;
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;
  const rows: Row[] = [
    {
      section: "push",
      figure: `complete push logins/s, ${p.connectedPairs} pairs (page, paired phone)`,
      value: `${fmt(p.loginsPerSec)}/s`,
      peer: `QR logins/s, ${q.connectedPairs} pairs, same server`,
      peerValue: `${fmt(q.loginsPerSec)}/s`,
      ratio: ratio(p.loginsPerSec, q.loginsPerSec),
      target: "(peer, info)",
      meets: null,
    },
    {
      section: "push",
      figure: "page's login:push -> phone's push:request, p99",
      value: `${fmt(p.requestToPhone.p99, 2)} ms`,
      peer: "its p50",
      peerValue: `${fmt(p.requestToPhone.p50, 2)} ms`,
      ratio: null,
      target: "(info)",
      meets: null,
    },
    {
      section: "push",
      figure: "phone's push:approve -> page's login:state approved, p99",
      value: `${fmt(p.approveToBrowser.p99, 2)} ms`,
      peer: "QR: wallet POST sent -> page's login:state, p99",
      peerValue: `${fmt(q.postToBrowser.p99, 2)} ms`,
      ratio: null,
      target: "(info)",
      meets: null,
    },
    {
      section: "push",
      figure: "server CPU per complete push login",
      value: `${fmt(push.serverCpuMsPerLogin, 2)} ms`,
      peer: "per QR login, same run",
      peerValue: `${fmt(qr.serverCpuMsPerLogin, 2)} ms`,
      ratio: ratio(push.serverCpuMsPerLogin, qr.serverCpuMsPerLogin),
      target: "(info)",
      meets: null,
    },
    {
      section: "push",
      figure: "login errors (both runs)",
      value: fmt(p.errorCount),
      peer: "QR login errors",
      peerValue: fmt(q.errorCount),
      ratio: null,
      target: "0",
      meets: p.errorCount === 0 && q.errorCount === 0,
    },
    {
      section: "push",
      figure: "widget QR mode, minified + gzip (what a page loads)",
      value: kb(size.gzipBytes),
      peer: "push chunk, loaded on 'Send to my phone'",
      peerValue: kb(size.push.gzipBytes),
      ratio: null,
      target: "QR mode <= 25 KB gzipped",
      meets: size.gzipBytes <= WIDGET_GZIP_TARGET_BYTES,
    },
  ];
  const notes = [
    `push: ${fmt(p.logins)} logins in ${seconds} s (${fmt(p.loginsTotal)} incl. warm-up/drain); login:push -> push:request p50 ${fmt(p.requestToPhone.p50, 2)} ms, p90 ${fmt(p.requestToPhone.p90, 2)} ms, max ${fmt(p.requestToPhone.max, 2)} ms; full push login p50 ${fmt(p.fullLogin.p50, 1)} ms, p99 ${fmt(p.fullLogin.p99, 1)} ms (QR: p50 ${fmt(q.fullLogin.p50, 1)} ms, p99 ${fmt(q.fullLogin.p99, 1)} ms); generators: push ${p.generatorCpuCores}, QR ${q.generatorCpuCores} cores; signer ${p.signer}`,
  ];
  if (p.errorCount > 0) notes.push(`push errors: ${JSON.stringify(p.errors)}`);
  if (q.errorCount > 0) notes.push(`QR errors: ${JSON.stringify(q.errors)}`);
  return { rows, results: { push: { push, qr, widget: size } }, notes };
}
