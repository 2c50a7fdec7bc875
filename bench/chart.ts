/**
 * SVG charts of a bench run, written by bench/run.ts to bench/results/charts/ (git-ignored; a copy
 * from a run is kept in bench/charts/ for bench/README.md):
 * - one per section: a bar per table row that has a ratio to its same-run peer (the ratio's
 *   length, a line at 1x, the target where it is a ratio), labelled with both values;
 * - line charts for series over time (the soak's heap and RSS).
 * Plain strings, no dependency: every text is escaped.
 */
import type { Row } from "./table";

const escapeXml = (text: string) =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

const FONT = 'font-family="system-ui, sans-serif"';

/** The rows of one section as ratio bars; null when none of its rows has a ratio. */
export function renderSectionChart(section: string, rows: Row[]): string | null {
  const bars = rows.filter((row) => row.section === section && row.ratio !== null && Number.isFinite(row.ratio));
  if (bars.length === 0) return null;
  const width = 960;
  const labelWidth = 560;
  const barArea = width - labelWidth - 40;
  const rowHeight = 34;
  const top = 50;
  const height = top + bars.length * rowHeight + 40;
  const targetOf = (row: Row) => {
    const match = /^(>=|<=)\s*([\d.]+)x/.exec(row.target);
    return match ? { op: match[1]!, value: Number(match[2]) } : undefined;
  };
  const maxRatio = Math.max(1.2, ...bars.map((row) => row.ratio ?? 0), ...bars.map((row) => targetOf(row)?.value ?? 0));
  const x = (ratio: number) => labelWidth + (ratio / maxRatio) * barArea;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="600">${escapeXml(section)}: ours / same-run peer (ratio)</text>`,
  ];
  bars.forEach((row, i) => {
    const y = top + i * rowHeight;
    const ratio = row.ratio ?? 0;
    const color = row.meets === null ? "#7a8ca3" : row.meets ? "#2e8b57" : "#c0392b";
    parts.push(
      `<text x="12" y="${y + 13}">${escapeXml(row.figure.slice(0, 90))}</text>`,
      `<text x="12" y="${y + 27}" fill="#555">${escapeXml(`${row.value} vs ${row.peerValue} (${row.peer.slice(0, 60)})`)}</text>`,
      `<rect x="${labelWidth}" y="${y + 4}" width="${Math.max(1, x(ratio) - labelWidth).toFixed(1)}" height="20" fill="${color}"/>`,
      `<text x="${(x(ratio) + 4).toFixed(1)}" y="${y + 19}">${ratio}x</text>`,
    );
    const target = targetOf(row);
    if (target) {
      const tx = x(target.value).toFixed(1);
      parts.push(
        `<line x1="${tx}" x2="${tx}" y1="${y}" y2="${y + 28}" stroke="#000" stroke-dasharray="3,2"/>`,
        `<text x="${tx}" y="${y + 38}" font-size="10" text-anchor="middle">${escapeXml(`${target.op} ${target.value}x`)}</text>`,
      );
    }
  });
  const one = x(1).toFixed(1);
  parts.push(
    `<line x1="${one}" x2="${one}" y1="${top - 8}" y2="${height - 30}" stroke="#333"/>`,
    `<text x="${one}" y="${top - 12}" text-anchor="middle">1x</text>`,
    `<text x="12" y="${height - 10}" fill="#555">green: meets its target, red: misses it, grey: no target (context); dashed: a ratio target</text>`,
    "</svg>",
  );
  return parts.join("\n");
}

export interface LineSeries {
  name: string;
  color: string;
  points: Array<{ x: number; y: number }>;
}

/** Series over a shared x axis (e.g. seconds), with vertical markers (e.g. "idle from here"). */
export function renderLineChart(options: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  markers?: Array<{ x: number; label: string }>;
}): string {
  const width = 960;
  const height = 420;
  const margin = { left: 70, right: 180, top: 44, bottom: 50 };
  const all = options.series.flatMap((s) => s.points);
  const maxX = Math.max(1, ...all.map((p) => p.x));
  const maxY = Math.max(1, ...all.map((p) => p.y)) * 1.1;
  const px = (x: number) => margin.left + (x / maxX) * (width - margin.left - margin.right);
  const py = (y: number) => height - margin.bottom - (y / maxY) * (height - margin.top - margin.bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="600">${escapeXml(options.title)}</text>`,
    `<line x1="${margin.left}" y1="${py(0)}" x2="${px(maxX)}" y2="${py(0)}" stroke="#333"/>`,
    `<line x1="${margin.left}" y1="${py(0)}" x2="${margin.left}" y2="${margin.top}" stroke="#333"/>`,
    `<text x="${(margin.left + px(maxX)) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`,
    `<text x="16" y="${(margin.top + py(0)) / 2}" transform="rotate(-90 16 ${(margin.top + py(0)) / 2})" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const y = (maxY * i) / 4;
    parts.push(
      `<line x1="${margin.left - 4}" x2="${px(maxX)}" y1="${py(y).toFixed(1)}" y2="${py(y).toFixed(1)}" stroke="#eee"/>`,
      `<text x="${margin.left - 8}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${Math.round(y)}</text>`,
    );
    const x = (maxX * i) / 4;
    parts.push(`<text x="${px(x).toFixed(1)}" y="${py(0) + 16}" text-anchor="middle">${Math.round(x)}</text>`);
  }
  for (const marker of options.markers ?? []) {
    const x = px(marker.x).toFixed(1);
    parts.push(
      `<line x1="${x}" x2="${x}" y1="${margin.top}" y2="${py(0)}" stroke="#999" stroke-dasharray="4,3"/>`,
      `<text x="${x}" y="${margin.top - 4}" text-anchor="middle" fill="#555">${escapeXml(marker.label)}</text>`,
    );
  }
  options.series.forEach((series, i) => {
    const path = series.points.map((p, j) => `${j === 0 ? "M" : "L"}${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    parts.push(
      `<path d="${path.join(" ")}" fill="none" stroke="${series.color}" stroke-width="2"/>`,
      ...series.points.map(
        (p) => `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="2.5" fill="${series.color}"/>`,
      ),
      `<rect x="${width - margin.right + 16}" y="${margin.top + i * 20}" width="12" height="12" fill="${series.color}"/>`,
      `<text x="${width - margin.right + 34}" y="${margin.top + i * 20 + 11}">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push("</svg>");
  return parts.join("\n");
}
