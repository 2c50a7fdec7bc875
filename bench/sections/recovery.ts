import { benchRecovery } from "../recovery";
import { fmt, ratio, type SectionContext, type SectionReport } from "../section";
import type { Row } from "../table";
import { TARGETS } from "../targets";

export const name = "recovery";

export async function run({ log }: SectionContext): Promise<SectionReport> {
  log("signature recovery (ours vs ethers.verifyMessage, one thread)...");
  const recovery = await benchRecovery({ seconds: 2 });
  const [ethersRow, oursRow, ...others] = recovery.rows;
  if (!ethersRow || !oursRow) throw new Error("benchRecovery returned fewer than two rows");
  const rows: Row[] = [
    {
      section: "recovery",
      figure: `recoveries/s per core: ${oursRow.name}`,
      value: `${fmt(oursRow.opsPerSec)}/s`,
      peer: ethersRow.name,
      peerValue: `${fmt(ethersRow.opsPerSec)}/s`,
      ratio: recovery.ratio,
      target: `>= ${fmt(TARGETS.recoveryPerSec)}/s, >= ${TARGETS.recoveryVsEthers}x`,
      meets: oursRow.opsPerSec >= TARGETS.recoveryPerSec && recovery.ratio >= TARGETS.recoveryVsEthers,
    },
    ...others.map((other) => ({
      section: "recovery",
      figure: `recoveries/s per core: ${other.name}`,
      value: `${fmt(other.opsPerSec)}/s`,
      peer: ethersRow.name,
      peerValue: `${fmt(ethersRow.opsPerSec)}/s`,
      ratio: ratio(other.opsPerSec, ethersRow.opsPerSec),
      target: "(fallback, info)",
      meets: null,
    })),
  ];
  return { rows, results: { recovery } };
}
