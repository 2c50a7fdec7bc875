/** What the channels benchmark's phases share: names, the latency summary, bounded waits. */
import path from "node:path";
import { ROOT } from "../server-process";
import { roundTo, summarize } from "../stats";
import type { LatencySummary } from "./types";

export const HOLDER_SCRIPT = path.join(ROOT, "bench", "channels", "holder-process.ts");
export const FANOUT_EVENT = "bench";
export const FANOUT_CHANNEL = { ours: "private-bench-fanout", bare: "bench-fanout" };
export const PRESENCE_CHANNEL = "presence-bench-churn";
export const AUTH_CHANNEL = "presence-bench-auth";
/** A socket_id as our server hands them out; channel auth signs whatever the browser names. */
export const AUTH_SOCKET_ID = "1234567.7654321";

export const round2 = (n: number) => roundTo(n, 2);
const LATENCY_QUANTILES = { p50: 0.5, p99: 0.99, max: 1 };
export const summarizeMs = (values: ArrayLike<number>): LatencySummary => summarize(values, LATENCY_QUANTILES);

/** Rejects after `ms` with `message`, for races against event-driven waits. */
export function deadline(ms: number, message: string): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  promise.catch(() => {});
  return { promise, cancel: () => clearTimeout(timer) };
}

export async function within<T>(ms: number, message: string, work: Promise<T>): Promise<T> {
  const limit = deadline(ms, message);
  try {
    return await Promise.race([work, limit.promise]);
  } finally {
    limit.cancel();
  }
}
