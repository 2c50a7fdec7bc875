import path from "node:path";
import { PAGE_LIMIT, benchDataFetches, type DataFetchBenchResult } from "../data-fetch";
import { summarizeProfile } from "../profile-summary";
import { positiveFlag, type SectionContext, type SectionReport } from "../section";
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
  const rows = toRows(await benchDataFetches({ ...options, ...(cpuProfilePath ? { cpuProfilePath } : {}) }));
  if (!cpuProfilePath) return { rows };
  const dataProfile = await summarizeProfile(cpuProfilePath, 25);
  return {
    rows,
    results: { dataProfile },
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
      target: `>= ${result.target}x`,
      meets: result.ratioToRecovery >= result.target,
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
