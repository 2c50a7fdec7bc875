import path from "node:path";
import { PAGE_LIMIT, benchDataFetches, type DataFetchBenchResult } from "../data-fetch";
import { summarizeProfile } from "../profile-summary";
import { fmt, positiveFlag, ratio, type SectionContext, type SectionReport } from "../section";
import { benchWeb3DataPeer, type Web3DataPeerResult } from "../peers/web3-data";
import { TARGETS } from "../targets";
import type { Row } from "../table";

export const name = "data";

export async function run(context: SectionContext): Promise<SectionReport> {
  const { log, isProfiling, resultsDir } = context;
  const options = {
    seconds: positiveFlag(context, "data-seconds", 5),
    partners: Math.round(positiveFlag(context, "partners", 50)),
  };
  log("signed partner data fetches (users, limit 20, 50 partners) beside recovery and /api/health...");
  const cpuProfilePath = isProfiling ? path.join(resultsDir, "server-data.cpuprofile") : undefined;
  const ours = await benchDataFetches({ ...options, ...(cpuProfilePath ? { cpuProfilePath } : {}) });
  log("data fetches peer: node:http + web3.eth.accounts.recover + Prisma (bench/peers/web3-data-server.ts)...");
  const peer = await benchWeb3DataPeer({ ...options, warmupSeconds: 1, users: 200 });
  const rows = [...toRows(ours), ...toPeerRows(ours, peer)];
  if (!cpuProfilePath) return { rows, results: { web3DataPeer: peer } };
  const dataProfile = await summarizeProfile(cpuProfilePath, 25);
  return {
    rows,
    results: { dataProfile, web3DataPeer: peer },
    profiles: [{ title: "server profile over the data-fetch window", summary: dataProfile }],
  };
}

function toRows(result: DataFetchBenchResult): Row[] {
  const number = (value: number) => value.toLocaleString("en-US");
  const { dataFetches } = result;
  return [
    {
      section: "data",
      figure: `verified data fetches/s (users, limit ${PAGE_LIMIT}), ${dataFetches.partners} partners`,
      value: `${number(dataFetches.fetchesPerSec)}/s`,
      peer: "bare recovery (EIP-191 hash + recover), one thread",
      peerValue: `${number(result.bareRecoveryPerSec)}/s`,
      ratio: result.ratioToRecovery,
      // Retired as a target (issue 15): the peer below is what users would run instead.
      target: "(info)",
      meets: null,
    },
    {
      section: "data",
      figure: "the same per CPU-second the server used",
      value: `${number(result.fetchesPerServerCpuSecond)}/cpu-s`,
      peer: "bare recovery, per CPU-second",
      peerValue: `${number(result.bareRecoveryPerSec)}/cpu-s`,
      ratio: result.cpuRatioToRecovery,
      target: "(info)",
      meets: null,
    },
    {
      section: "data",
      figure: "data fetches/s beside GET /api/health",
      value: `${number(dataFetches.fetchesPerSec)}/s`,
      peer: `GET /api/health, ${result.apiHealth.connections} connections`,
      peerValue: `${number(result.apiHealth.requestsPerSec)}/s`,
      ratio: result.ratioToHealth,
      target: "(info)",
      meets: null,
    },
    {
      section: "data",
      figure: "data fetch latency p50 / p99",
      value: `${dataFetches.latencyP50Ms} / ${dataFetches.latencyP99Ms} ms`,
      peer: "GET /api/health p50 / p99",
      peerValue: `${result.apiHealth.latencyP50Ms} / ${result.apiHealth.latencyP99Ms} ms`,
      ratio: null,
      target: "(info)",
      meets: null,
    },
    {
      section: "data",
      figure: "data fetch errors (whole run)",
      value: String(dataFetches.errorCount),
      peer: "",
      peerValue: "",
      ratio: null,
      target: "0",
      meets: dataFetches.errorCount === 0,
    },
  ];
}

function toPeerRows(ours: DataFetchBenchResult, peer: Web3DataPeerResult): Row[] {
  const p = peer.dataFetches;
  const r = ratio(ours.dataFetches.fetchesPerSec, p.fetchesPerSec);
  return [
    {
      section: "data",
      figure: "verified data fetches/s beside the seed recipe served the usual way",
      value: `${fmt(ours.dataFetches.fetchesPerSec)}/s`,
      peer: "node:http + web3.eth.accounts.recover + Prisma, same generator",
      peerValue: `${fmt(p.fetchesPerSec)}/s${p.errorCount > 0 ? ` (${fmt(p.errorCount)} errors)` : ""}`,
      ratio: r,
      target: `>= ${TARGETS.dataVsWeb3Peer}x`,
      meets: r >= TARGETS.dataVsWeb3Peer && p.errorCount === 0,
    },
  ];
}
