/**
 * `npm run bench`: every benchmark section (bench/sections/index.ts), each figure beside its peer
 * measured in the same run, one table on stdout and the whole result as JSON in
 * bench/results/latest.json. See bench/README.md.
 *
 * Flags: --only=widget,data,recovery,logins,memory,channels (sections, comma-separated),
 * --skip-build (never run `next build`), --cpu-prof (profile the servers over the measured windows;
 * the profiler slows them, so figures from such a run are marked), and each section's own:
 * --login-seconds=N (logins, default 10), --sockets=N (memory, default 10000), --data-seconds=N and
 * --partners=N (data), --subscribers=N --holders=N --load-shares=0.25,0.5 --steady-rounds=N
 * --presence-users=N (channels).
 */
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { formatProfileSummary } from "./profile-summary";
import type { BenchSection, SectionContext, SectionReport } from "./section";
import { SECTIONS } from "./sections/index";
import { ROOT, killAllChildren, removeTempDirs } from "./server-process";
import { formatTable, type Row } from "./table";
import { renderSectionChart } from "./chart";
import { TARGETS } from "./targets";

const RESULTS_DIR = path.join(ROOT, "bench", "results");

const log = (line: string) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}`);
const flag = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const hasFlag = (name: string) => process.argv.includes(`--${name}`);
const loadAverage = () => os.loadavg().map((n) => Math.round(n * 100) / 100);
const describeError = (err: unknown) => String(err instanceof Error ? (err.stack ?? err.message) : err);

let isCleaningUp = false;
async function cleanUp() {
  if (isCleaningUp) return;
  isCleaningUp = true;
  killAllChildren();
  await removeTempDirs();
}

/** The sections --only names (all without it), in the registry's order; exits 2 on an unknown name. */
async function chooseSections(): Promise<BenchSection[]> {
  const all = await Promise.all(SECTIONS.map((load) => load()));
  const names = all.map((section) => section.name);
  const only = flag("only")?.split(",") ?? names;
  const unknown = only.filter((name) => !names.includes(name));
  if (unknown.length > 0) {
    console.error(`unknown --only section(s): ${unknown.join(", ")} (known: ${names.join(", ")})`);
    process.exit(2);
  }
  return all.filter((section) => only.includes(section.name));
}

async function main(): Promise<boolean> {
  const startedAt = new Date();
  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? "unknown",
    totalMemoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    loadAverageAtStart: loadAverage(),
  };
  const sections = await chooseSections();
  log(`${machine.cpus} cores, load average ${machine.loadAverageAtStart.join(" ")}, Node ${machine.node}`);
  await mkdir(RESULTS_DIR, { recursive: true });
  const isProfiling = hasFlag("cpu-prof");
  const context: SectionContext = { log, flag, hasFlag, isProfiling, resultsDir: RESULTS_DIR };

  const reports: SectionReport[] = [];
  const failures: Record<string, string> = {};
  for (const section of sections) {
    try {
      const report = await section.run(context);
      reports.push(report);
      Object.assign(failures, report.failures);
    } catch (err) {
      failures[section.name] = describeError(err);
    }
  }

  const finishedAt = new Date();
  const rows = reports.flatMap((report) => report.rows);
  const report = {
    startedAt: startedAt.toISOString(),
    durationSeconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
    machine: { ...machine, loadAverageAtEnd: loadAverage() },
    profiled: isProfiling,
    targets: TARGETS,
    table: rows,
    results: Object.assign({}, ...reports.map((r) => r.results)) as Record<string, unknown>,
    failures,
  };
  const jsonPath = path.join(RESULTS_DIR, "latest.json");
  await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
  const charts = await writeCharts(
    rows,
    reports.flatMap((r) => r.charts ?? []),
  );

  const notes = reports.flatMap((r) => r.notes ?? []);
  notes.push(
    `machine: ${machine.cpus} cores, load average ${machine.loadAverageAtStart.join(" ")} at start, ${report.machine.loadAverageAtEnd.join(" ")} at end; ${report.durationSeconds} s in all`,
  );
  if (isProfiling) notes.push("PROFILED RUN: the server ran under the CPU profiler; its figures are lower than usual");
  const output = ["", formatTable(rows), "", ...notes];
  for (const { title, summary } of reports.flatMap((r) => r.profiles ?? [])) {
    output.push(`\n${title}:`, formatProfileSummary(summary));
  }
  for (const [section, message] of Object.entries(failures)) output.push(`\nFAILED ${section}: ${message}`);
  output.push(`\nJSON: ${path.relative(ROOT, jsonPath)}`);
  if (charts.length > 0) output.push(`charts: ${charts.map((file) => path.relative(ROOT, file)).join(", ")}`);
  console.log(output.join("\n"));
  return Object.keys(failures).length === 0;
}

/** One SVG per section with ratios (bench/chart.ts), and the sections' own charts, in bench/results/charts. */
async function writeCharts(rows: Row[], extra: Array<{ name: string; svg: string }>): Promise<string[]> {
  const dir = path.join(RESULTS_DIR, "charts");
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  const charts = [...new Set(rows.map((row) => row.section))].flatMap((section) => {
    const svg = renderSectionChart(section, rows);
    return svg ? [{ name: section, svg }] : [];
  });
  for (const { name, svg } of [...charts, ...extra]) {
    const file = path.join(dir, `${name}.svg`);
    await writeFile(file, `${svg}\n`);
    written.push(file);
  }
  return written;
}

/** 12 minutes, plus the soak's load and idle phases, which run as long as they are told (--soak-long: 14 min). */
function watchdogMs(): number {
  const isLong = hasFlag("soak-long");
  const seconds = (name: string, fallback: number) => {
    const n = Number(flag(name));
    return flag(name) !== undefined && Number.isFinite(n) && n > 0 ? n : fallback;
  };
  const soakSeconds = seconds("soak-seconds", isLong ? 600 : 40) + seconds("soak-idle-seconds", isLong ? 240 : 200);
  return 12 * 60_000 + soakSeconds * 1000;
}
const WATCHDOG_MS = watchdogMs();

const watchdog = setTimeout(() => {
  console.error(`bench: still running after ${Math.round(WATCHDOG_MS / 60_000)} minutes, stopping`);
  void cleanUp().finally(() => process.exit(1));
}, WATCHDOG_MS);
watchdog.unref();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    void cleanUp().finally(() => process.exit(130));
  });
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
