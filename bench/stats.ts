/** Statistics and error tallies every benchmark uses: one definition of a percentile, one of a count. */

/** `value` rounded to `digits` decimals. */
export const roundTo = (value: number, digits = 2) => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** The nearest-rank value at quantile `q` (0-1) of ascending `sorted`; 0 for none. */
export function nearestRank(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? 0;
}

/**
 * `{count, <name>: value at its quantile, ...}` of `values`, each rounded to `digits`:
 * `summarize(latencies, { p50: 0.5, p99: 0.99, max: 1 })`.
 */
export function summarize<Name extends string>(
  values: ArrayLike<number>,
  quantiles: Record<Name, number>,
  digits = 2,
): { count: number } & Record<Name, number> {
  const sorted = Float64Array.from(values).sort();
  const summary: Record<string, number> = { count: sorted.length };
  for (const [name, q] of Object.entries<number>(quantiles)) summary[name] = roundTo(nearestRank(sorted, q), digits);
  return summary as { count: number } & Record<Name, number>;
}

/** Error kind -> how often; only kinds that happened are keys. */
export type ErrorCounts = Record<string, number>;

export function countError(into: ErrorCounts, kind: string, n = 1): void {
  if (n > 0) into[kind] = (into[kind] ?? 0) + n;
}

export function mergeErrors(into: ErrorCounts, from: ErrorCounts, prefix = ""): void {
  for (const [kind, n] of Object.entries(from)) countError(into, `${prefix}${kind}`, n);
}

export const sumErrors = (errors: ErrorCounts) => Object.values(errors).reduce((a, b) => a + b, 0);

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
