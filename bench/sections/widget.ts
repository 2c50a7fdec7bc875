import type { SectionContext, SectionReport } from "../section";
import { WIDGET_GZIP_TARGET_BYTES, measureWidgetSize } from "../widget-size";

export const name = "widget";

export async function run({ log }: SectionContext): Promise<SectionReport> {
  log("widget bundle size (components/qr-login public entry, without React)...");
  const size = await measureWidgetSize();
  return {
    rows: [
      {
        section: "widget",
        figure: "QrLogin bundle, minified + gzip, without React",
        value: `${(size.gzipBytes / 1024).toFixed(2)} KB`,
        peer: "minified, not compressed",
        peerValue: `${(size.bytes / 1024).toFixed(2)} KB`,
        ratio: null,
        target: "<= 25 KB gzipped",
        meets: size.gzipBytes <= WIDGET_GZIP_TARGET_BYTES,
      },
    ],
  };
}
