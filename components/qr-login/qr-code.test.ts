import jsQR from "jsqr";
import { describe, expect, it } from "vitest";
import { encodeQr, qrPath } from "./qr-code";

/** Draws the modules (4 px each, a 4-module quiet zone) and reads them back with jsQR. */
function decode(modules: boolean[][]): { data: string; version: number } | undefined {
  const scale = 4;
  const quiet = 4;
  const side = (modules.length + 2 * quiet) * scale;
  const pixels = new Uint8ClampedArray(side * side * 4).fill(255);
  modules.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (!dark) return;
      for (let dy = 0; dy < scale; dy++) {
        const start = (((y + quiet) * scale + dy) * side + (x + quiet) * scale) * 4;
        for (let i = 0; i < scale * 4; i += 4) pixels.fill(0, start + i, start + i + 3);
      }
    }),
  );
  const result = jsQR(pixels, side, side);
  return result === null ? undefined : { data: result.data, version: result.version };
}

describe("encodeQr", () => {
  // Lengths across versions: 1 (one block), 5, 7 (version bits), 10+ (16-bit count), many blocks.
  it.each([1, 14, 40, 84, 106, 154, 230, 331, 520, 1000])("%i bytes decode to the same text", (length) => {
    const text = `http://localhost:3000/api/login/requests/${"AbC-_9".repeat(200)}`.slice(0, length);
    const modules = encodeQr(text);
    const version = (modules.length - 17) / 4;
    expect(Number.isInteger(version)).toBe(true);
    expect(decode(modules)).toEqual({ data: text, version });
  });

  it("takes the smallest version that holds the text at level M: 62 bytes fit version 4, 63 need 5", () => {
    expect(encodeQr("x".repeat(62)).length).toBe(4 * 4 + 17);
    expect(encodeQr("x".repeat(63)).length).toBe(5 * 4 + 17);
  });

  it("text beyond ASCII is UTF-8, as wallets read it", () => {
    expect(decode(encodeQr("wallet://login?name=Zoë&city=Zürich"))?.data).toBe("wallet://login?name=Zoë&city=Zürich");
  });

  it("refuses text no version holds", () => {
    expect(() => encodeQr("x".repeat(2400))).toThrow(RangeError);
  });
});

describe("qrPath", () => {
  it("draws one run per dark stretch of a row, offset by the margin", () => {
    expect(
      qrPath(
        [
          [true, true, false, true],
          [false, false, false, false],
          [false, true, true, true],
        ],
        2,
      ),
    ).toBe("M2 2h2v1H2zM5 2h1v1H5zM3 4h3v1H3z");
  });
});
