import type { SectionContext, SectionReport } from "../section";
import { WIDGET_GZIP_TARGET_BYTES, measureWidgetSize } from "../widget-size";

export const name = "widget";

const kb = (bytes: number) => `${(bytes / 1024).toFixed(2)} KB`;

export async function run({ log }: SectionContext): Promise<SectionReport> {
  log("widget bundle size (components/qr-login public entry, without React; push mode's chunk apart)...");
  const size = await measureWidgetSize();
  return {
    rows: [
      {
        section: "widget",
        figure: "QrLogin, QR mode (what a page loads), minified + gzip, without React",
        value: kb(size.gzipBytes),
        peer: "minified, not compressed",
        peerValue: kb(size.bytes),
        ratio: null,
        target: "<= 25 KB gzipped",
        meets: size.gzipBytes <= WIDGET_GZIP_TARGET_BYTES,
      },
      {
        section: "widget",
        figure: "push mode chunk (loaded on 'Send to my phone'), minified + gzip",
        value: kb(size.push.gzipBytes),
        peer: "minified, not compressed",
        peerValue: kb(size.push.bytes),
        ratio: null,
        target: "(info)",
        meets: null,
      },
    ],
    results: { widget: size },
    notes: [
      `widget chunks: QR mode ${size.files.join(" + ")} (each gzipped on its own, as served); push mode ${size.push.files.join(" + ")}`,
    ],
  };
}
