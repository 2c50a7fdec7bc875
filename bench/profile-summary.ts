/**
 * Where a V8 .cpuprofile spent its time: self time by function and by package (a node_modules
 * package, a folder of this repository, or Node's internals), as shares of the samples.
 *
 * Alone: node --import tsx bench/profile-summary.ts bench/results/server-logins.cpuprofile [top]
 */
import { readFile } from "node:fs/promises";
import { pathToFileURL } from "node:url";
import { ROOT } from "./server-process";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  totalMs: number;
  idleShare: number;
  byPackage: Array<{ name: string; share: number }>;
  byFunction: Array<{ name: string; where: string; share: number }>;
  /** Time inside each of this repository's functions, callees included: which step costs what. */
  inclusiveRepoFunctions: Array<{ name: string; where: string; share: number }>;
}

function packageOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith("(") ? functionName : "(native / V8)";
  const modules = url.lastIndexOf("node_modules/");
  if (modules !== -1) {
    const rest = url.slice(modules + "node_modules/".length).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1] ?? ""}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return "node (internals)";
  const local = url.replace(pathToFileURL(ROOT).href + "/", "");
  if (local !== url) {
    const parts = local.split("/");
    return parts.length > 2 ? `${parts[0]}/${parts[1]}` : (parts[0] ?? local);
  }
  return url;
}

export async function summarizeProfile(filePath: string, top = 20): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(filePath, "utf8")) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfMicros = new Map<number, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const delta = profile.timeDeltas[i] ?? 0;
    selfMicros.set(id, (selfMicros.get(id) ?? 0) + delta);
    total += delta;
  });
  const packages = new Map<string, number>();
  const functions = new Map<string, { name: string; where: string; micros: number }>();
  let idle = 0;
  for (const [id, micros] of selfMicros) {
    const frame = byId.get(id)?.callFrame;
    if (!frame) continue;
    if (frame.functionName === "(idle)") idle += micros;
    const pkg = packageOf(frame.url, frame.functionName);
    packages.set(pkg, (packages.get(pkg) ?? 0) + micros);
    const where = frame.url ? `${frame.url.replace(pathToFileURL(ROOT).href + "/", "")}:${frame.lineNumber + 1}` : "";
    const key = `${frame.functionName}@${where}`;
    const entry = functions.get(key) ?? { name: frame.functionName || "(anonymous)", where, micros: 0 };
    entry.micros += micros;
    functions.set(key, entry);
  }
  // Inclusive time of the repository's own functions (not node_modules): each sample counts once per
  // function on its stack, so recursion and async re-entry do not count it twice.
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const repoPrefix = pathToFileURL(ROOT).href + "/";
  const inclusive = new Map<string, { name: string; where: string; micros: number }>();
  for (const [id, micros] of selfMicros) {
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (!frame?.url.startsWith(repoPrefix) || frame.url.includes("/node_modules/")) continue;
      // tsx's output lines do not match the .ts source, so the file alone; bench/ is the harness.
      const where = frame.url.slice(repoPrefix.length);
      if (where.startsWith("bench/")) continue;
      const key = `${frame.functionName}@${where}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const entry = inclusive.get(key) ?? { name: frame.functionName || "(anonymous)", where, micros: 0 };
      entry.micros += micros;
      inclusive.set(key, entry);
    }
  }
  const share = (micros: number) => Math.round((micros / Math.max(1, total)) * 1000) / 10;
  return {
    totalMs: Math.round(total / 1000),
    idleShare: share(idle),
    byPackage: [...packages]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, micros]) => ({ name, share: share(micros) })),
    byFunction: [...functions.values()]
      .sort((a, b) => b.micros - a.micros)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, share: share(f.micros) })),
    inclusiveRepoFunctions: [...inclusive.values()]
      .sort((a, b) => b.micros - a.micros)
      .slice(0, top)
      .map((f) => ({ name: f.name, where: f.where, share: share(f.micros) })),
  };
}

export function formatProfileSummary(summary: ProfileSummary): string {
  const pct = (n: number) => `${n.toFixed(1).padStart(5)}%`;
  return [
    `CPU profile: ${summary.totalMs} ms sampled, ${summary.idleShare}% idle`,
    "self time by package:",
    ...summary.byPackage.map((p) => `  ${pct(p.share)}  ${p.name}`),
    "self time by function:",
    ...summary.byFunction.map((f) => `  ${pct(f.share)}  ${f.name}  ${f.where}`),
    "time inside this repository's functions, callees included (synchronous stacks only):",
    ...summary.inclusiveRepoFunctions.map((f) => `  ${pct(f.share)}  ${f.name}  ${f.where}`),
  ].join("\n");
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
if (isMain) {
  const file = process.argv[2];
  if (!file) throw new Error("usage: profile-summary.ts <file.cpuprofile> [top]");
  console.log(formatProfileSummary(await summarizeProfile(file, Number(process.argv[3] ?? 25))));
}
