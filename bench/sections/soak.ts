/**
 * `soak` (bench/soak.ts): logins at half capacity, then idle past the session lifetimes, heap
 * after a forced GC and RSS sampled throughout, plotted in bench/results/charts/soak-memory.svg.
 * Flags: --soak-seconds=N (load, default 40), --soak-idle-seconds=N (default 200),
 * --soak-sample-seconds=N (default 10); --soak-long: 600 s of load, 240 s idle, a sample every 30 s.
 */
import { renderLineChart } from "../chart";
import { fmt, positiveFlag, ratio, type SectionContext, type SectionReport } from "../section";
import { benchSoak, type SoakResult } from "../soak";
import type { Row } from "../table";
import { TARGETS } from "../targets";

export const name = "soak";

export async function run(context: SectionContext): Promise<SectionReport> {
  const isLong = context.hasFlag("soak-long");
  const result = await benchSoak({
    loadSeconds: positiveFlag(context, "soak-seconds", isLong ? 600 : 40),
    idleSeconds: positiveFlag(context, "soak-idle-seconds", isLong ? 240 : 200),
    sampleSeconds: positiveFlag(context, "soak-sample-seconds", isLong ? 30 : 10),
    pairs: 100,
    log: context.log,
  });
  return {
    rows: toRows(result),
    results: { soak: result },
    notes: [
      `soak: capacity ${fmt(result.capacityPerSec)}/s, open loop at ${fmt(result.ratePerSec)}/s: ${fmt(result.load.loginsTotal)} logins, ` +
        `${fmt(result.load.errorCount)} errors; samples (s: heap MB / RSS MB): ` +
        result.samples.map((s) => `${Math.round(s.at)}: ${s.heapUsedMb}/${s.rssMb}`).join(", "),
    ],
    charts: [{ name: "soak-memory", svg: renderChart(result) }],
  };
}

function toRows(r: SoakResult): Row[] {
  const heapRatio = ratio(r.heapAfterIdleMb, r.heapAfterWarmupMb);
  return [
    {
      section: "soak",
      figure: `JS heap after idle (forced GC), after ${fmt(r.load.loginsTotal)} logins at ${fmt(r.ratePerSec)}/s`,
      value: `${fmt(r.heapAfterIdleMb, 1)} MB`,
      peer: "the same after warm-up",
      peerValue: `${fmt(r.heapAfterWarmupMb, 1)} MB`,
      ratio: heapRatio,
      target: `<= ${TARGETS.soakHeapAfterIdleVsWarmup}x`,
      meets: heapRatio <= TARGETS.soakHeapAfterIdleVsWarmup,
    },
    {
      section: "soak",
      figure: "RSS after idle",
      value: `${fmt(r.rssAfterIdleMb, 1)} MB`,
      peer: "the same after warm-up",
      peerValue: `${fmt(r.rssAfterWarmupMb, 1)} MB`,
      ratio: ratio(r.rssAfterIdleMb, r.rssAfterWarmupMb),
      target: "(info)",
      meets: null,
    },
    {
      section: "soak",
      figure: "soak login errors",
      value: fmt(r.load.errorCount),
      peer: "-",
      peerValue: "",
      ratio: null,
      target: "0",
      meets: r.load.errorCount === 0,
    },
  ];
}

function renderChart(r: SoakResult): string {
  const idleFrom = r.samples.find((s) => s.phase === "idle")?.at;
  return renderLineChart({
    title: `Soak: one node, ${fmt(r.load.loginsTotal)} logins at ${fmt(r.ratePerSec)}/s, then idle (heap after forced GC)`,
    xLabel: "seconds since the load started",
    yLabel: "MB",
    series: [
      { name: "JS heap used", color: "#1f77b4", points: r.samples.map((s) => ({ x: s.at, y: s.heapUsedMb })) },
      { name: "RSS", color: "#d62728", points: r.samples.map((s) => ({ x: s.at, y: s.rssMb })) },
    ],
    markers: idleFrom === undefined ? [] : [{ x: idleFrom, label: "idle" }],
  });
}
