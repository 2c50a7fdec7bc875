/**
 * Draws the web app icons of public/manifest.webmanifest (the wallet simulator on a
 * phone's home screen): app/icon.svg's QR glyph, white on the accent colour, filling
 * the square so the same picture serves as a maskable icon (the glyph stays inside the
 * centre safe zone, a circle of 40% of the size). The PNGs are committed; run this
 * again only when the design changes.
 *
 *   node --import tsx scripts/make-icons.ts     write public/icons/icon-{192,512}.png
 */
import fs from "node:fs";
import path from "node:path";
import { PNG } from "pngjs";
import { isMainModule, repoRootOf } from "./main-module";

export const ICON_SIZES = [192, 512] as const;

const ACCENT = [0x4f, 0x46, 0xe5] as const;
/** The glyph is drawn on app/icon.svg's 32-unit grid, scaled around the centre to sit in the safe zone. */
const GRID = 32;
const GLYPH_SCALE = 0.8;
const STROKE = 2.2;
/** Samples per pixel side: 4 x 4 samples give smooth edges. */
const SAMPLES = 4;

/** Signed distance from (x, y) to a rounded rectangle's outline (negative inside). */
function distanceToRoundedRect(x: number, y: number, left: number, top: number, size: number, radius: number): number {
  const half = size / 2;
  const dx = Math.abs(x - (left + half)) - (half - radius);
  const dy = Math.abs(y - (top + half)) - (half - radius);
  const outside = Math.hypot(Math.max(dx, 0), Math.max(dy, 0));
  return outside + Math.min(Math.max(dx, dy), 0) - radius;
}

/** Whether a point of the 32-unit grid is on the glyph's strokes (app/icon.svg's shapes). */
function isOnGlyph(x: number, y: number): boolean {
  const half = STROKE / 2;
  for (const [left, top] of [
    [7, 7],
    [18, 7],
    [7, 18],
  ] as const) {
    if (Math.abs(distanceToRoundedRect(x, y, left, top, 7, 1.5)) <= half) return true;
  }
  // The small square (M18 18h3v3h-3z) with round joins, and three dots (round caps).
  if (Math.abs(distanceToRoundedRect(x, y, 18, 18, 3, 0)) <= half) return true;
  for (const [cx, cy] of [
    [24.5, 18],
    [24.5, 24.5],
    [21, 24.5],
  ] as const) {
    if (Math.hypot(x - cx, y - cy) <= half) return true;
  }
  return false;
}

/** The icon at `size` pixels as a PNG. */
export function drawIcon(size: number): PNG {
  const png = new PNG({ width: size, height: size, colorType: 2 });
  const unit = GRID / size;
  const centre = GRID / 2;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      let covered = 0;
      for (let sy = 0; sy < SAMPLES; sy++) {
        for (let sx = 0; sx < SAMPLES; sx++) {
          const gx = (px + (sx + 0.5) / SAMPLES) * unit;
          const gy = (py + (sy + 0.5) / SAMPLES) * unit;
          if (isOnGlyph(centre + (gx - centre) / GLYPH_SCALE, centre + (gy - centre) / GLYPH_SCALE)) covered++;
        }
      }
      const white = covered / (SAMPLES * SAMPLES);
      const offset = (py * size + px) * 4;
      for (let channel = 0; channel < 3; channel++) {
        png.data[offset + channel] = Math.round((ACCENT[channel] ?? 0) * (1 - white) + 255 * white);
      }
      png.data[offset + 3] = 255;
    }
  }
  return png;
}

export function getIconPath(root: string, size: number): string {
  return path.join(root, "public", "icons", `icon-${size}.png`);
}

if (isMainModule(import.meta.url)) {
  const root = repoRootOf(import.meta.url);
  for (const size of ICON_SIZES) {
    const file = getIconPath(root, size);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, PNG.sync.write(drawIcon(size), { colorType: 2 }));
    console.log(`wrote ${path.relative(root, file)}`);
  }
}
