/**
 * The widget's QR: modules from `uqr` (unjs; byte segments are UTF-8, as wallets read
 * them), drawn as one SVG path. `uqr` is about 3.9 KB gzipped in the widget, where
 * qrcode.react kept its canvas component in every bundle.
 */
import { encode } from "uqr";

/**
 * The dark (true) and light modules of the QR code of `text`, row by row, without a quiet
 * zone: error correction level M, the smallest version that holds it. Throws a RangeError
 * for text no version holds.
 */
export function encodeQr(text: string): boolean[][] {
  return encode(text, { ecc: "M", border: 0 }).data;
}

/** An SVG path of the dark modules, one `M x y h w v1 H x z` run per dark stretch of a row. */
export function qrPath(modules: boolean[][], margin: number): string {
  let path = "";
  modules.forEach((row, y) => {
    let start = -1;
    row.forEach((dark, x) => {
      if (dark && start < 0) start = x;
      if (start >= 0 && (!dark || x === row.length - 1)) {
        const end = dark ? x + 1 : x;
        path += `M${start + margin} ${y + margin}h${end - start}v1H${start + margin}z`;
        start = -1;
      }
    });
  });
  return path;
}
