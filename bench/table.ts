/** The benchmark's one table: each figure, its peer from the same run, the ratio, the target. */
export interface Row {
  section: string;
  figure: string;
  value: string;
  peer: string;
  peerValue: string;
  /** figure / peer, when that quotient means something. */
  ratio: number | null;
  target: string;
  /** null: no target, the row is context. */
  meets: boolean | null;
}

export function formatTable(rows: Row[]): string {
  const header = ["", "figure", "value", "peer (same run)", "peer value", "ratio", "target", "meets target"];
  const cells = rows.map((r) => [
    r.section,
    r.figure,
    r.value,
    r.peer,
    r.peerValue,
    r.ratio === null ? "" : `${r.ratio}x`,
    r.target,
    r.meets === null ? "-" : r.meets ? "yes" : "NO",
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? "").length)));
  const isNumeric = (i: number) => i === 2 || i === 4 || i === 5;
  const line = (cols: string[]) =>
    cols.map((c, i) => (isNumeric(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0))).join(" | ");
  return [line(header), widths.map((w) => "-".repeat(w)).join("-|-"), ...cells.map(line)].join("\n");
}
