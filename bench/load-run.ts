/**
 * What the login load generators (login-load.ts, push-load.ts) share around their loops: the
 * measured window's clock, the drain at its end, the result's common fields and the run-alone entry.
 */
import { isMainModule } from "../scripts/main-module";
import { startLoadWindow, type LoadWindow } from "./load-window";
import { signerBackend } from "./native-signer";
import { countError, sumErrors, summarize, type ErrorCounts } from "./stats";

export interface LatencySummary {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const QUANTILES = { p50: 0.5, p90: 0.9, p99: 0.99, max: 1 };

/** Latencies in ms, each figure rounded to 3 decimals. */
export const summarizeMs = (values: number[]): LatencySummary => summarize(values, QUANTILES, 3);

/** What every login load generator takes. */
export interface LoadOptions {
  url: string;
  /** Browser + wallet (or phone) pairs, each looping logins. */
  pairs: number;
  warmupMs: number;
  durationMs: number;
  drainMs: number;
  stepTimeoutMs: number;
}

/** What every login load result holds (see loadResultBase). */
export interface LoadResultBase {
  pairs: number;
  connectedPairs: number;
  signer: string;
  durationMs: number;
  logins: number;
  loginsPerSec: number;
  /** All logins completed, warm-up and drain included. */
  loginsTotal: number;
  errors: ErrorCounts;
  errorCount: number;
  /** CPU this process used over the window, as a share of one core. */
  generatorCpuCores: number;
}

export interface WindowTiming {
  warmupMs: number;
  durationMs: number;
  drainMs: number;
}

/** The measured window, starting `warmupMs` from now: what ends inside it counts. */
export function loadClock(options: WindowTiming) {
  const windowStart = performance.now() + options.warmupMs;
  const windowEnd = windowStart + options.durationMs;
  return { windowStart, windowEnd, inWindow: (t: number) => t >= windowStart && t < windowEnd };
}

/**
 * Runs `load` (loops that stop at windowEnd) inside the generator's load window, gives what is in
 * flight `drainMs` after windowEnd, and counts it in `errors` when that was not enough.
 */
export async function runInWindow(
  options: WindowTiming,
  windowEnd: number,
  errors: ErrorCounts,
  load: () => Promise<unknown>,
): Promise<LoadWindow> {
  // The parent reads the server's CPU and profiles it over the same window.
  const measured = startLoadWindow(options);
  let drainTimer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    load().then(() => true),
    new Promise<boolean>((resolve) => {
      drainTimer = setTimeout(() => resolve(false), Math.max(0, windowEnd + options.drainMs - performance.now()));
    }),
  ]);
  clearTimeout(drainTimer);
  measured.stop();
  if (!drained) countError(errors, "logins still in flight at the drain deadline");
  return measured;
}

/** The fields every login load result starts with, and its errors and the generator's CPU. */
export function loadResultBase(
  options: { pairs: number; durationMs: number },
  run: { connectedPairs: number; logins: number; loginsTotal: number },
  errors: ErrorCounts,
  measured: LoadWindow,
): LoadResultBase {
  return {
    pairs: options.pairs,
    connectedPairs: run.connectedPairs,
    signer: signerBackend,
    durationMs: options.durationMs,
    logins: run.logins,
    loginsPerSec: Math.round((run.logins * 1000) / options.durationMs),
    loginsTotal: run.loginsTotal,
    errors,
    errorCount: sumErrors(errors),
    generatorCpuCores: measured.cpuCores(),
  };
}

/**
 * When `moduleUrl` is the script node runs: `run` with `defaults` and the JSON options in argv[2]
 * (url required), the result sent to the parent process or printed; then exits.
 */
export async function runAloneIfMain<O extends { url: string }, R>(
  moduleUrl: string,
  defaults: Omit<O, "url">,
  run: (options: O) => Promise<R>,
): Promise<void> {
  if (!isMainModule(moduleUrl)) return;
  const given = JSON.parse(process.argv[2] ?? "{}") as Partial<O>;
  const file = moduleUrl.slice(moduleUrl.lastIndexOf("/") + 1);
  if (!given.url) throw new Error(`usage: ${file} '{"url":"http://127.0.0.1:3000"}'`);
  const result = await run({ ...defaults, ...given, url: given.url } as O);
  if (process.send) process.send({ type: "result", result }, () => process.exit(0));
  else {
    console.log(JSON.stringify(result, null, 2));
    process.exit(0);
  }
}
