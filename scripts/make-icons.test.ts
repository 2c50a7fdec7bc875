import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { ICON_SIZES, drawIcon, getIconPath } from "./make-icons";

const root = fileURLToPath(new URL("..", import.meta.url));

describe("make-icons", () => {
  it("the committed icons are the ones the script draws (run scripts/make-icons.ts if not)", () => {
    for (const size of ICON_SIZES) {
      const committed = PNG.sync.read(fs.readFileSync(getIconPath(root, size)));
      expect([committed.width, committed.height]).toEqual([size, size]);
      expect(Buffer.compare(committed.data, drawIcon(size).data)).toBe(0);
    }
  });

  it("the manifest lists each icon with its real size, and opens the wallet standalone", () => {
    const manifest = JSON.parse(fs.readFileSync(`${root}/public/manifest.webmanifest`, "utf8")) as {
      start_url: string;
      display: string;
      icons: Array<{ src: string; sizes: string; type: string }>;
    };
    expect(manifest).toMatchObject({ start_url: "/wallet", display: "standalone" });
    for (const size of ICON_SIZES) {
      expect(manifest.icons).toContainEqual(
        expect.objectContaining({ src: `/icons/icon-${size}.png`, sizes: `${size}x${size}`, type: "image/png" }),
      );
    }
  });

  it("the icon fills the square (maskable) and the glyph stays inside the safe zone", () => {
    const size = 192;
    const { data } = drawIcon(size);
    const isAccent = (x: number, y: number) => data[(y * size + x) * 4] === 0x4f;
    // Corners are the accent colour, not transparent or white.
    expect([isAccent(0, 0), isAccent(size - 1, 0), isAccent(0, size - 1), isAccent(size - 1, size - 1)]).toEqual([
      true,
      true,
      true,
      true,
    ]);
    const outsideSafeZone: string[] = [];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const isOutside = Math.hypot(x + 0.5 - size / 2, y + 0.5 - size / 2) > 0.4 * size;
        if (isOutside && !isAccent(x, y)) outsideSafeZone.push(`${x},${y}`);
      }
    }
    expect(outsideSafeZone).toEqual([]);
  });
});
