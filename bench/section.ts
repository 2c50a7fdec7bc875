/**
 * What a benchmark section is: a module in bench/sections/ exporting `name` and `run`, listed
 * once in bench/sections/index.ts. bench/run.ts runs the sections asked for in the registry's
 * order, puts their rows in one table and their results in bench/results/latest.json.
 */
import type { ProfileSummary } from "./profile-summary";
import type { Row } from "./table";

export interface SectionContext {
  /** A progress line on stderr. */
  log(line: string): void;
  /** `--name=value` from the command line. */
  flag(name: string): string | undefined;
  /** `--name` on the command line. */
  hasFlag(name: string): boolean;
  /** --cpu-prof: profile the servers over the measured windows (write .cpuprofile files to resultsDir). */
  isProfiling: boolean;
  /** bench/results, created. */
  resultsDir: string;
}

export interface SectionReport {
  rows: Row[];
  /** Merged into the JSON's `results`. */
  results?: Record<string, unknown>;
  /** Lines under the table. */
  notes?: string[];
  /** CPU profile summaries printed after the notes, by what they cover. */
  profiles?: Array<{ title: string; summary: ProfileSummary }>;
  /** SVG charts of its own (bench/chart.ts), written as bench/results/charts/<name>.svg. */
  charts?: Array<{ name: string; svg: string }>;
  /** Failures other than the section's own (a section that throws fails under its name). */
  failures?: Record<string, string>;
}

export interface BenchSection {
  name: string;
  run(context: SectionContext): Promise<SectionReport>;
}

/** `--name=N` as a positive number, else `fallback`. */
export function positiveFlag(context: SectionContext, name: string, fallback: number): number {
  const value = context.flag(name);
  const n = Number(value);
  return value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
}

export const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** a / b to two decimals; 0 when b is not positive. */
export const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : 0);
