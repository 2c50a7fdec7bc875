import { describe, expect, it } from "vitest";
import {
  generateMatchChoices,
  randomAlphanumeric,
  randomBase64url,
  sha256Base64url,
  timeOrderedId,
  timingSafeEqualString,
} from "./random";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

describe("randomBase64url", () => {
  it("encodes the requested number of bytes without padding", () => {
    expect(randomBase64url(16)).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(randomBase64url(32)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(Buffer.from(randomBase64url(32), "base64url")).toHaveLength(32);
  });

  it("does not repeat", () => {
    const values = new Set(Array.from({ length: 2000 }, () => randomBase64url(16)));
    expect(values.size).toBe(2000);
  });

  it("hands out no byte twice across pool refills, for any draw size", () => {
    // 3,000 draws of 1-32 bytes take ~50 KB, a dozen refills of the 4 KiB pool; 24-byte windows of
    // the concatenation would repeat if a refill or an offset ever re-served bytes.
    const sizes = Array.from({ length: 3000 }, (_, i) => 1 + (i % 32));
    const bytes = Buffer.concat(sizes.map((size) => Buffer.from(randomBase64url(size), "base64url")));
    expect(bytes).toHaveLength(sizes.reduce((a, b) => a + b, 0));
    const windows = new Set<string>();
    for (let i = 0; i + 24 <= bytes.length; i += 24) windows.add(bytes.toString("hex", i, i + 24));
    expect(windows.size).toBe(Math.floor(bytes.length / 24));
  });

  it("serves draws larger than the pool and zero bytes", () => {
    expect(Buffer.from(randomBase64url(10_000), "base64url")).toHaveLength(10_000);
    expect(randomBase64url(0)).toBe("");
  });

  it("refuses bad sizes", () => {
    expect(() => randomBase64url(-1)).toThrow(RangeError);
    expect(() => randomBase64url(2.5)).toThrow(RangeError);
  });
});

describe("timeOrderedId", () => {
  it("is c, 9 base-36 time digits, a 4-digit counter and 12 base64url characters", () => {
    const id = timeOrderedId(Date.UTC(2026, 11, 2));
    expect(id).toMatch(/^c[0-9a-z]{9}[0-9a-z]{4}[A-Za-z0-9_-]{12}$/);
    expect(Number.parseInt(id.slice(1, 10), 36)).toBe(Date.UTC(2026, 11, 2));
  });

  it("sorts by time as text, and in order of creation within one millisecond", () => {
    const ids = [timeOrderedId(1_000), timeOrderedId(1_000), timeOrderedId(999_999), timeOrderedId(1e12 + 7)];
    expect([...ids].sort()).toEqual(ids);
  });

  it("does not repeat", () => {
    const ids = new Set(Array.from({ length: 5000 }, () => timeOrderedId(42)));
    expect(ids.size).toBe(5000);
  });
});

describe("randomAlphanumeric", () => {
  it("has the requested length and alphabet", () => {
    for (const length of [0, 1, 8, 16, 24, 100, 1000]) {
      const value = randomAlphanumeric(length);
      expect(value).toHaveLength(length);
      expect(value).toMatch(/^[A-Za-z0-9]*$/);
    }
  });

  it("refuses bad lengths", () => {
    expect(() => randomAlphanumeric(-1)).toThrow(RangeError);
    expect(() => randomAlphanumeric(1.5)).toThrow(RangeError);
  });

  it("is unbiased: every character within 6 standard deviations of uniform", () => {
    // Folding bytes with a plain modulo would make A-H about 25% more likely, far outside this band.
    const perChar = 4000;
    const text = randomAlphanumeric(perChar * ALPHANUMERIC.length);
    const counts = new Map<string, number>();
    for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
    expect(counts.size).toBe(ALPHANUMERIC.length);
    const sigma = Math.sqrt(perChar * (1 - 1 / ALPHANUMERIC.length));
    for (const char of ALPHANUMERIC) {
      expect(Math.abs((counts.get(char) ?? 0) - perChar), char).toBeLessThan(6 * sigma);
    }
  });
});

describe("sha256Base64url", () => {
  it("matches the FIPS 180-2 'abc' vector", () => {
    expect(sha256Base64url("abc")).toBe("ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0");
  });

  it("hashes UTF-8", () => {
    expect(sha256Base64url("é")).toBe(sha256Base64url("\u00e9"));
    expect(sha256Base64url("é")).not.toBe(sha256Base64url("e\u0301"));
  });
});

describe("timingSafeEqualString", () => {
  it("compares strings", () => {
    expect(timingSafeEqualString("abc", "abc")).toBe(true);
    expect(timingSafeEqualString("", "")).toBe(true);
    expect(timingSafeEqualString("✓ü", "✓ü")).toBe(true);
    expect(timingSafeEqualString("abc", "abd")).toBe(false);
    expect(timingSafeEqualString("abc", "ab")).toBe(false);
    expect(timingSafeEqualString("", "a")).toBe(false);
    expect(timingSafeEqualString("a".repeat(1000), "a".repeat(999) + "b")).toBe(false);
  });
});

describe("generateMatchChoices", () => {
  const runs = 6000;
  const results = Array.from({ length: runs }, () => generateMatchChoices());

  it("gives three distinct two-digit codes, one of them the match code", () => {
    const bad = results.filter(
      ({ matchCode, matchChoices }) =>
        matchChoices.length !== 3 ||
        new Set(matchChoices).size !== 3 ||
        !matchChoices.every((code) => /^[1-9][0-9]$/.test(code)) ||
        !matchChoices.includes(matchCode),
    );
    expect(bad).toEqual([]);
  });

  it("covers 10..99 and nothing else", () => {
    const seen = new Set(results.flatMap((r) => r.matchChoices));
    expect([...seen].map(Number).sort((a, b) => a - b)).toEqual(Array.from({ length: 90 }, (_, i) => i + 10));
  });

  it("puts the match code at each position equally often", () => {
    const positions = [0, 0, 0];
    for (const { matchCode, matchChoices } of results) {
      const index = matchChoices.indexOf(matchCode);
      positions[index] = (positions[index] ?? 0) + 1;
    }
    const expected = runs / 3;
    const sigma = Math.sqrt(runs * (1 / 3) * (2 / 3));
    for (const count of positions) expect(Math.abs(count - expected)).toBeLessThan(6 * sigma);
  });

  it("draws match codes uniformly over 10..99", () => {
    const counts = new Map<string, number>();
    for (const { matchCode } of results) counts.set(matchCode, (counts.get(matchCode) ?? 0) + 1);
    const expected = runs / 90;
    const sigma = Math.sqrt(runs * (1 / 90) * (89 / 90));
    for (const count of counts.values()) expect(Math.abs(count - expected)).toBeLessThan(6 * sigma);
  });
});
