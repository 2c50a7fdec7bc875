/**
 * `production`: logins on the three topologies of bench/topologies.ts in one run, with the CPU per
 * login of the node processes, PostgreSQL, Redis and the balancer. Flags: --production-seconds=N
 * (measured window per topology, default 8), --production-pairs=N (default 100).
 */
import path from "node:path";
import { DEFAULT_LOGIN_LOAD, type LoginLoadResult } from "../login-load";
import { summarizeProfile } from "../profile-summary";
import { fmt, positiveFlag, ratio, type SectionContext, type SectionReport } from "../section";
import type { Row } from "../table";
import { TARGETS } from "../targets";
import { benchTopologies, medianP99, windowErrors, type TopologyOutcome, type TopologyResult } from "../topologies";
import { benchSiwePeer, type SiwePeerResult } from "../peers/siwe-peer";

export const name = "production";

export async function run(context: SectionContext): Promise<SectionReport> {
  const seconds = positiveFlag(context, "production-seconds", 8);
  const pairs = Math.round(positiveFlag(context, "production-pairs", 100));
  const load = { ...DEFAULT_LOGIN_LOAD, pairs, durationMs: Math.round(seconds * 1000) };
  context.log(`production topologies: ${pairs} pairs, ${load.warmupMs / 1000} s warm-up + ${seconds} s each...`);
  const cpuProfilePath = context.isProfiling
    ? path.join(context.resultsDir, "server-logins-postgres-redis.cpuprofile")
    : undefined;
  const outcomes = await benchTopologies({ load, log: context.log, ...(cpuProfilePath ? { cpuProfilePath } : {}) });
  const profile = cpuProfilePath ? await summarizeProfile(cpuProfilePath, 25) : undefined;
  context.log("logins peer: siwe + Prisma + jose in Next route handlers (bench/peers/siwe-next)...");
  let peer: SiwePeerResult | undefined;
  const failures: Record<string, string> = {};
  try {
    peer = await benchSiwePeer(load);
  } catch (err) {
    failures["production: siwe peer"] = err instanceof Error ? err.message : String(err);
  }
  return {
    rows: [...toProductionRows(outcomes), ...(peer ? toPeerRows(outcomes, peer) : [])],
    results: { production: outcomes, ...(peer ? { siwePeer: peer } : {}) },
    failures,
    notes: [...toNotes(outcomes), ...(peer ? [peerNote(outcomes, peer)] : [])],
    profiles: profile ? [{ title: "node profile over the PostgreSQL + Redis login window", summary: profile }] : [],
  };
}

const isMeasured = (o: TopologyOutcome | undefined): o is TopologyResult => o !== undefined && !("skipped" in o);

export function toProductionRows(outcomes: TopologyOutcome[]): Row[] {
  const byName = new Map(outcomes.map((o) => [o.name, o]));
  const a = byName.get("sqlite-memory");
  const base = isMeasured(a) ? a : undefined;
  const rows: Row[] = [];
  for (const o of outcomes) {
    if (!isMeasured(o)) {
      rows.push({
        section: "production",
        figure: `${o.label}: complete logins/s`,
        value: "skipped",
        peer: o.skipped,
        peerValue: "",
        ratio: null,
        target: "(info)",
        meets: null,
      });
      continue;
    }
    const isBase = o.name === "sqlite-memory";
    rows.push({
      section: "production",
      figure: `${o.label}: complete logins/s, ${o.logins.connectedPairs} pairs`,
      value: `${fmt(o.logins.loginsPerSec)}/s`,
      peer: isBase ? "-" : (base?.label ?? "-"),
      peerValue: isBase || !base ? "" : `${fmt(base.logins.loginsPerSec)}/s`,
      ratio: isBase || !base ? null : ratio(o.logins.loginsPerSec, base.logins.loginsPerSec),
      target: "(info)",
      meets: null,
    });
    const hasTarget = o.name === "postgres-redis" && base !== undefined;
    rows.push({
      section: "production",
      figure: `${o.label}: node CPU ms per login`,
      value: `${fmt(o.cpuMsPerLogin.nodes, 2)} ms`,
      peer: isBase ? "-" : (base?.label ?? "-"),
      peerValue: isBase || !base ? "" : `${fmt(base.cpuMsPerLogin.nodes, 2)} ms`,
      ratio: isBase || !base ? null : ratio(o.cpuMsPerLogin.nodes, base.cpuMsPerLogin.nodes),
      target: hasTarget ? `<= ${TARGETS.productionNodeCpuVsSqlite}x (a)` : "(info)",
      meets: hasTarget
        ? ratio(o.cpuMsPerLogin.nodes, base.cpuMsPerLogin.nodes) <= TARGETS.productionNodeCpuVsSqlite
        : null,
    });
    if (!isBase) {
      const parts = [
        `PostgreSQL ${fmt(o.cpuMsPerLogin.postgres, 2)}`,
        `Redis ${fmt(o.cpuMsPerLogin.redis, 2)}`,
        ...(o.cpuMsPerLogin.balancer > 0 ? [`HAProxy ${fmt(o.cpuMsPerLogin.balancer, 2)}`] : []),
      ];
      rows.push({
        section: "production",
        figure: `${o.label}: services' CPU ms per login`,
        value: parts.join(", "),
        peer: "-",
        peerValue: "",
        ratio: null,
        target: "(info)",
        meets: null,
      });
    }
    if (o.halfLoad) {
      const half = o.halfLoad;
      const isTarget = o.name === "sqlite-memory";
      const p99 = medianP99(half.windows);
      const bareP99 = half.bareWindows.length > 0 ? medianP99(half.bareWindows) : undefined;
      const many = half.windows.length > 1 ? `, median of ${half.windows.length} windows` : "";
      rows.push({
        section: "production",
        figure: `${o.label}: wallet POST sent -> browser login:state p99, open loop ${fmt(half.ratePerSec)}/s (half capacity)${many}`,
        value: `${fmt(p99, 2)} ms`,
        peer: bareP99 === undefined ? "-" : "bare login peer at the same rate (bench/peers/bare-login-server.ts)",
        peerValue: bareP99 === undefined ? "" : `${fmt(bareP99, 2)} ms`,
        ratio: bareP99 ? ratio(p99, bareP99) : null,
        target: isTarget ? `<= ${TARGETS.loginLatencyHalfLoadP99Ms} ms` : "(info)",
        meets: isTarget
          ? half.windows.some((w) => w.postToBrowser.count > 0) && p99 <= TARGETS.loginLatencyHalfLoadP99Ms
          : null,
      });
    }
    rows.push({
      section: "production",
      figure: `${o.label}: errors`,
      value: fmt(o.logins.errorCount + halfLoadErrors(o)),
      peer: "-",
      peerValue: "",
      ratio: null,
      target: "0",
      meets: o.logins.errorCount + halfLoadErrors(o) === 0,
    });
  }
  return rows;
}

const halfLoadErrors = (o: TopologyResult) =>
  o.halfLoad ? windowErrors(o.halfLoad.windows) + windowErrors(o.halfLoad.bareWindows) : 0;

/** Each window's wallet POST -> browser p50/p99 and the generator's own loop lateness p99, in order. */
function describeWindows(windows: LoginLoadResult[]): string {
  return windows
    .map(
      (w) =>
        `${fmt(w.loginsPerSec)}/s p50 ${fmt(w.postToBrowser.p50, 1)} p99 ${fmt(w.postToBrowser.p99, 1)} (generator late ${fmt(w.generatorLoopDelayP99Ms, 1)})`,
    )
    .join("; ");
}

function toNotes(outcomes: TopologyOutcome[]): string[] {
  return outcomes.filter(isMeasured).map((o) => {
    const l = o.logins;
    const half = o.halfLoad;
    const halfWindows = half ? [...half.windows, ...half.bareWindows] : [];
    const errorKinds = Object.assign({}, l.errors, ...halfWindows.map((w) => w.errors)) as Record<string, number>;
    const errors = l.errorCount + halfLoadErrors(o) > 0 ? `; errors ${JSON.stringify(errorKinds)}` : "";
    const bare =
      half && half.bareWindows.length > 0
        ? `; the bare login peer at the same rate: ${describeWindows(half.bareWindows)}`
        : "";
    const halfPart = half
      ? `; open loop at ${fmt(half.ratePerSec)}/s, wallet POST -> browser in ms per window: ${describeWindows(half.windows)}${bare}`
      : "";
    return (
      `production ${o.label}: ${fmt(l.logins)} logins in ${l.durationMs / 1000} s; cores used: nodes ${o.cpuCores.nodes}, ` +
      `PostgreSQL ${o.cpuCores.postgres}, Redis ${o.cpuCores.redis}, HAProxy ${o.cpuCores.balancer}, load generator ${l.generatorCpuCores}; ` +
      `wallet POST -> browser p50 ${fmt(l.postToBrowser.p50, 1)} ms, p99 ${fmt(l.postToBrowser.p99, 1)} ms (closed loop)${halfPart}${errors}`
    );
  });
}

/** Logins/s compare only when both got the CPU they wanted: the cores each used say whether they did. */
function peerNote(outcomes: TopologyOutcome[], peer: SiwePeerResult): string {
  const ours = outcomes.find((o) => o.name === "sqlite-memory");
  const base = isMeasured(ours) ? ours : undefined;
  const oursPart = base
    ? `(a) used ${base.cpuCores.nodes} cores at ${fmt(base.cpuMsPerLogin.nodes, 2)} ms per login`
    : "(a) not measured";
  const cpuRatio = base && base.cpuMsPerLogin.nodes > 0 ? ratio(peer.cpuMsPerLogin.nodes, base.cpuMsPerLogin.nodes) : 0;
  return (
    `logins peer (siwe + Prisma + jose): ${fmt(peer.logins.loginsPerSec)}/s on ${peer.cpuCores.nodes} cores at ${fmt(peer.cpuMsPerLogin.nodes, 2)} ms per login; ` +
    `${oursPart}; the peer spends ${cpuRatio}x our CPU per login (logins/s compare only when both used about the same cores)`
  );
}

function toPeerRows(outcomes: TopologyOutcome[], peer: SiwePeerResult): Row[] {
  const ours = outcomes.find((o) => o.name === "sqlite-memory");
  const base = isMeasured(ours) ? ours : undefined;
  const peerLabel = "siwe verify + Prisma upsert + jose, Next route handlers";
  const errors = peer.logins.errorCount > 0 ? ` (${fmt(peer.logins.errorCount)} errors)` : "";
  return [
    {
      section: "production",
      figure: "(a) complete logins/s beside the guides' login",
      value: base ? `${fmt(base.logins.loginsPerSec)}/s` : "-",
      peer: peerLabel,
      peerValue: `${fmt(peer.logins.loginsPerSec)}/s${errors}`,
      ratio: base ? ratio(base.logins.loginsPerSec, peer.logins.loginsPerSec) : null,
      target: `>= ${TARGETS.loginsVsSiwePeer}x`,
      meets: base ? ratio(base.logins.loginsPerSec, peer.logins.loginsPerSec) >= TARGETS.loginsVsSiwePeer : false,
    },
    {
      section: "production",
      figure: "(a) node CPU ms per login beside the guides' login",
      value: base ? `${fmt(base.cpuMsPerLogin.nodes, 2)} ms` : "-",
      peer: peerLabel,
      peerValue: `${fmt(peer.cpuMsPerLogin.nodes, 2)} ms`,
      ratio: base ? ratio(base.cpuMsPerLogin.nodes, peer.cpuMsPerLogin.nodes) : null,
      target: "(info)",
      meets: null,
    },
  ];
}
