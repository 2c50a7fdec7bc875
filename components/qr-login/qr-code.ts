/**
 * @license MIT
 * QR Code generator: Project Nayuki's QR Code generator library (as bundled by qrcode.react),
 * cut down to what the widget draws: one byte-mode segment (UTF-8), error correction level M,
 * the smallest version that holds it, the mask with the lowest penalty.
 * Copyright (c) Project Nayuki. https://www.nayuki.io/page/qr-code-generator-library
 * Permission is hereby granted, free of charge, to any person obtaining a copy of this software
 * and associated documentation files (the "Software"), to deal in the Software without
 * restriction, including without limitation the rights to use, copy, modify, merge, publish,
 * distribute, sublicense, and/or sell copies of the Software, and to permit persons to whom the
 * Software is furnished to do so, subject to the following conditions: the above copyright notice
 * and this permission notice shall be included in all copies or substantial portions of the
 * Software. The Software is provided "as is", without warranty of any kind, express or implied.
 */

// Level M, by version (index 0 unused): error correction codewords per block, and blocks.
const ECC_PER_BLOCK = [
  0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24, 28, 28, 26, 26, 26, 26, 28, 28, 28, 28, 28, 28, 28, 28,
  28, 28, 28, 28, 28, 28, 28, 28, 28, 28, 28,
];
const BLOCKS = [
  0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10, 10, 11, 13, 14, 16, 17, 17, 18, 20, 21, 23, 25, 26, 28, 29, 31, 33,
  35, 37, 38, 40, 43, 45, 47, 49,
];
const PENALTY_N1 = 3;
const PENALTY_N2 = 3;
const PENALTY_N3 = 40;
const PENALTY_N4 = 10;

const getBit = (x: number, i: number) => ((x >>> i) & 1) !== 0;

function appendBits(value: number, length: number, bits: number[]): void {
  for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1);
}

/** Modules available for data and error correction (after the function patterns) in a version. */
function rawDataModules(ver: number): number {
  let result = (16 * ver + 128) * ver + 64;
  if (ver >= 2) {
    const numAlign = Math.floor(ver / 7) + 2;
    result -= (25 * numAlign - 10) * numAlign - 55;
    if (ver >= 7) result -= 36;
  }
  return result;
}

const dataCodewords = (ver: number) => Math.floor(rawDataModules(ver) / 8) - ECC_PER_BLOCK[ver]! * BLOCKS[ver]!;

function rsMultiply(x: number, y: number): number {
  let z = 0;
  for (let i = 7; i >= 0; i--) {
    z = (z << 1) ^ ((z >>> 7) * 0x11d);
    z ^= ((y >>> i) & 1) * x;
  }
  return z;
}

function rsDivisor(degree: number): number[] {
  const result: number[] = new Array<number>(degree - 1).fill(0);
  result.push(1);
  let root = 1;
  for (let i = 0; i < degree; i++) {
    for (let j = 0; j < result.length; j++) {
      result[j] = rsMultiply(result[j]!, root);
      if (j + 1 < result.length) result[j]! ^= result[j + 1]!;
    }
    root = rsMultiply(root, 2);
  }
  return result;
}

function rsRemainder(data: number[], divisor: number[]): number[] {
  const result = divisor.map(() => 0);
  for (const b of data) {
    const factor = b ^ result.shift()!;
    result.push(0);
    divisor.forEach((coef, i) => (result[i]! ^= rsMultiply(coef, factor)));
  }
  return result;
}

/** The dark (true) and light modules of the QR code of `text`, row by row, without a quiet zone. */
export function encodeQr(text: string): boolean[][] {
  const bytes = new TextEncoder().encode(text);
  let ver = 1;
  for (; ; ver++) {
    if (ver > 40) throw new RangeError("Data too long");
    const countBits = ver < 10 ? 8 : 16;
    if (bytes.length < 1 << countBits && 4 + countBits + bytes.length * 8 <= dataCodewords(ver) * 8) break;
  }

  // Data bits: byte mode, count, bytes, terminator, padding to the capacity.
  const bits: number[] = [];
  appendBits(4, 4, bits);
  appendBits(bytes.length, ver < 10 ? 8 : 16, bits);
  for (const b of bytes) appendBits(b, 8, bits);
  const capacity = dataCodewords(ver) * 8;
  appendBits(0, Math.min(4, capacity - bits.length), bits);
  appendBits(0, (8 - (bits.length % 8)) % 8, bits);
  for (let pad = 0xec; bits.length < capacity; pad ^= 0xec ^ 0x11) appendBits(pad, 8, bits);
  const data: number[] = new Array<number>(bits.length / 8).fill(0);
  bits.forEach((bit, i) => (data[i >>> 3]! |= bit << (7 - (i & 7))));

  const size = ver * 4 + 17;
  const modules = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const isFunction = Array.from({ length: size }, () => new Array<boolean>(size).fill(false));
  const setFunction = (x: number, y: number, dark: boolean) => {
    modules[y]![x] = dark;
    isFunction[y]![x] = true;
  };

  const drawFormatBits = (mask: number) => {
    // Level M's format bits are 0, so the data is the mask alone.
    let rem = mask;
    for (let i = 0; i < 10; i++) rem = (rem << 1) ^ ((rem >>> 9) * 0x537);
    const format = ((mask << 10) | rem) ^ 0x5412;
    for (let i = 0; i <= 5; i++) setFunction(8, i, getBit(format, i));
    setFunction(8, 7, getBit(format, 6));
    setFunction(8, 8, getBit(format, 7));
    setFunction(7, 8, getBit(format, 8));
    for (let i = 9; i < 15; i++) setFunction(14 - i, 8, getBit(format, i));
    for (let i = 0; i < 8; i++) setFunction(size - 1 - i, 8, getBit(format, i));
    for (let i = 8; i < 15; i++) setFunction(8, size - 15 + i, getBit(format, i));
    setFunction(8, size - 8, true);
  };

  // Function patterns: timing, finders, alignment, format (redrawn with the mask), version.
  for (let i = 0; i < size; i++) {
    setFunction(6, i, i % 2 === 0);
    setFunction(i, 6, i % 2 === 0);
  }
  for (const [cx, cy] of [
    [3, 3],
    [size - 4, 3],
    [3, size - 4],
  ] as const) {
    for (let dy = -4; dy <= 4; dy++) {
      for (let dx = -4; dx <= 4; dx++) {
        const dist = Math.max(Math.abs(dx), Math.abs(dy));
        const x = cx + dx;
        const y = cy + dy;
        if (x >= 0 && x < size && y >= 0 && y < size) setFunction(x, y, dist !== 2 && dist !== 4);
      }
    }
  }
  const align: number[] = [];
  if (ver > 1) {
    const numAlign = Math.floor(ver / 7) + 2;
    const step = ver === 32 ? 26 : Math.ceil((ver * 4 + 4) / (numAlign * 2 - 2)) * 2;
    align.push(6);
    for (let pos = size - 7; align.length < numAlign; pos -= step) align.splice(1, 0, pos);
  }
  align.forEach((ax, i) =>
    align.forEach((ay, j) => {
      const last = align.length - 1;
      if ((i === 0 && j === 0) || (i === 0 && j === last) || (i === last && j === 0)) return;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) setFunction(ax + dx, ay + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
      }
    }),
  );
  drawFormatBits(0);
  if (ver >= 7) {
    let rem = ver;
    for (let i = 0; i < 12; i++) rem = (rem << 1) ^ ((rem >>> 11) * 0x1f25);
    const version = (ver << 12) | rem;
    for (let i = 0; i < 18; i++) {
      const a = size - 11 + (i % 3);
      const b = Math.floor(i / 3);
      setFunction(a, b, getBit(version, i));
      setFunction(b, a, getBit(version, i));
    }
  }

  // Error correction per block, then the blocks interleaved.
  const numBlocks = BLOCKS[ver]!;
  const eccLen = ECC_PER_BLOCK[ver]!;
  const rawCodewords = Math.floor(rawDataModules(ver) / 8);
  const numShort = numBlocks - (rawCodewords % numBlocks);
  const shortLen = Math.floor(rawCodewords / numBlocks);
  const divisor = rsDivisor(eccLen);
  const blocks: number[][] = [];
  for (let i = 0, k = 0; i < numBlocks; i++) {
    const block = data.slice(k, k + shortLen - eccLen + (i < numShort ? 0 : 1));
    k += block.length;
    const ecc = rsRemainder(block, divisor);
    if (i < numShort) block.push(0);
    blocks.push(block.concat(ecc));
  }
  const codewords: number[] = [];
  for (let i = 0; i < blocks[0]!.length; i++) {
    blocks.forEach((block, j) => {
      if (i !== shortLen - eccLen || j >= numShort) codewords.push(block[i]!);
    });
  }

  // Codewords in the zigzag of two-module columns, right to left.
  let bit = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vert = 0; vert < size; vert++) {
      for (let j = 0; j < 2; j++) {
        const x = right - j;
        const y = ((right + 1) & 2) === 0 ? size - 1 - vert : vert;
        if (!isFunction[y]![x] && bit < codewords.length * 8) {
          modules[y]![x] = getBit(codewords[bit >>> 3]!, 7 - (bit & 7));
          bit++;
        }
      }
    }
  }

  const applyMask = (mask: number) => {
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const invert = [
          (x + y) % 2,
          y % 2,
          x % 3,
          (x + y) % 3,
          (Math.floor(x / 3) + Math.floor(y / 2)) % 2,
          ((x * y) % 2) + ((x * y) % 3),
          (((x * y) % 2) + ((x * y) % 3)) % 2,
          (((x + y) % 2) + ((x * y) % 3)) % 2,
        ][mask];
        if (!isFunction[y]![x] && invert === 0) modules[y]![x] = !modules[y]![x];
      }
    }
  };

  let best = 0;
  let minPenalty = Infinity;
  for (let mask = 0; mask < 8; mask++) {
    applyMask(mask);
    drawFormatBits(mask);
    const penalty = penaltyScore(modules);
    if (penalty < minPenalty) {
      best = mask;
      minPenalty = penalty;
    }
    applyMask(mask);
  }
  applyMask(best);
  drawFormatBits(best);
  return modules;
}

/** The mask choice's penalty: runs, 2x2 blocks, finder-like patterns, dark/light balance. */
function penaltyScore(modules: boolean[][]): number {
  const size = modules.length;
  let result = 0;
  const countPatterns = (history: number[]) => {
    const n = history[1]!;
    const core = n > 0 && history[2] === n && history[3] === n * 3 && history[4] === n && history[5] === n;
    return (
      (core && history[0]! >= n * 4 && history[6]! >= n ? 1 : 0) +
      (core && history[6]! >= n * 4 && history[0]! >= n ? 1 : 0)
    );
  };
  const addHistory = (run: number, history: number[]) => {
    history.pop();
    history.unshift(history[0] === 0 ? run + size : run);
  };
  // Rows, then columns.
  for (const at of [(a: number, b: number) => modules[a]![b]!, (a: number, b: number) => modules[b]![a]!]) {
    for (let a = 0; a < size; a++) {
      let color = false;
      let run = 0;
      const history = [0, 0, 0, 0, 0, 0, 0];
      for (let b = 0; b < size; b++) {
        if (at(a, b) === color) {
          run++;
          if (run === 5) result += PENALTY_N1;
          else if (run > 5) result++;
        } else {
          addHistory(run, history);
          if (!color) result += countPatterns(history) * PENALTY_N3;
          color = at(a, b);
          run = 1;
        }
      }
      if (color) {
        addHistory(run, history);
        run = 0;
      }
      addHistory(run + size, history);
      result += countPatterns(history) * PENALTY_N3;
    }
  }
  let dark = 0;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const color = modules[y]![x];
      if (color) dark++;
      if (
        x < size - 1 &&
        y < size - 1 &&
        color === modules[y]![x + 1] &&
        color === modules[y + 1]![x] &&
        color === modules[y + 1]![x + 1]
      )
        result += PENALTY_N2;
    }
  }
  const total = size * size;
  return result + (Math.ceil(Math.abs(dark * 20 - total * 10) / total) - 1) * PENALTY_N4;
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
