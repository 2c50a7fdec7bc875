import { benchMemory, type MemoryBenchResult } from "../memory";
import { fmt, positiveFlag, type SectionContext, type SectionReport } from "../section";
import type { Row } from "../table";
import { sumErrors } from "../stats";
import { TARGETS } from "../targets";

export const name = "memory";

export async function run(context: SectionContext): Promise<SectionReport> {
  const socketCount = Math.round(positiveFlag(context, "sockets", 10_000));
  context.log(
    `memory: ${fmt(socketCount)} idle sockets on the bare Socket.IO server, then on ours (each did login:start)...`,
  );
  const memory = await benchMemory({ sockets: socketCount, holders: 4, batch: 50 });
  return { rows: toRows(memory, socketCount), results: { memory }, notes: [toNote(memory)] };
}

function toRows(memory: MemoryBenchResult, socketCount: number): Row[] {
  const memoryErrors = [memory.ours, memory.bare].reduce(
    (n, m) => n + sumErrors(m.errors) + (m.sockets - m.connected),
    0,
  );
  return [
    {
      section: "memory",
      figure: `RSS per idle socket, ours (login:start), ${fmt(memory.ours.connected)} open`,
      value: `${fmt(memory.ours.rssBytesPerSocket)} B`,
      peer: `bare Socket.IO, ${fmt(memory.bare.connected)} open`,
      peerValue: `${fmt(memory.bare.rssBytesPerSocket)} B`,
      ratio: memory.ratio,
      target: `<= ${TARGETS.memoryVsBare}x`,
      meets: memory.ratio <= TARGETS.memoryVsBare && memoryErrors === 0 && memory.ours.loginStarts === socketCount,
    },
    {
      section: "memory",
      figure: "JS heap per idle socket, ours (cross-check)",
      value: `${fmt(memory.ours.heapBytesPerSocket)} B`,
      peer: "bare Socket.IO",
      peerValue: `${fmt(memory.bare.heapBytesPerSocket)} B`,
      ratio: memory.heapRatio,
      target: `<= ${TARGETS.memoryVsBare}x`,
      meets: memory.heapRatio <= TARGETS.memoryVsBare,
    },
    {
      section: "memory",
      figure: "connect/login:start errors",
      value: fmt(memoryErrors),
      peer: "",
      peerValue: "",
      ratio: null,
      target: "0",
      meets: memoryErrors === 0,
    },
  ];
}

function toNote(memory: MemoryBenchResult): string {
  const { ours, bare } = memory;
  const mb = (b: number) => `${fmt(b / 2 ** 20, 1)} MB`;
  return (
    `memory: bare RSS ${mb(bare.rssBeforeBytes)} -> ${mb(bare.rssAfterBytes)}; ours ${mb(ours.rssBeforeBytes)} -> ${mb(ours.rssAfterBytes)} (API_ONLY, memory stores); after forced GC. ` +
    `Free V8 heap at the baseline: ours ${mb(ours.heapFreeBeforeBytes)}, bare ${mb(bare.heapFreeBeforeBytes)}; new sockets fill it before RSS grows, so RSS per socket flatters the process with more of it, and the JS heap row is the cross-check`
  );
}
