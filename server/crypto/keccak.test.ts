import { randomBytes } from "node:crypto";
import { keccak256 as ethersKeccak256 } from "ethers";
import { describe, expect, it } from "vitest";
import { keccak256, keccak256Js, keccakBackend } from "./keccak";

const hex = (bytes: Uint8Array) => `0x${Buffer.from(bytes).toString("hex")}`;

describe("keccak256", () => {
  // The `keccak` package ships prebuilt addons for linux-x64, darwin-x64 and win32-x64 only.
  const hasPrebuilt = ["linux-x64", "darwin-x64", "win32-x64"].includes(`${process.platform}-${process.arch}`);
  it.skipIf(!hasPrebuilt)("runs on the native sponge where the package ships a prebuilt addon", () => {
    expect(keccakBackend).toBe("native");
  });

  it("equals noble and ethers on every length around the 136-byte rate, and on large inputs", () => {
    const lengths = [...Array.from({ length: 300 }, (_, i) => i), 1087, 1088, 1089, 100_000];
    for (const length of lengths) {
      const input = randomBytes(length);
      const expected = ethersKeccak256(input);
      expect(hex(keccak256(input)), `length ${length}`).toBe(expected);
      expect(hex(keccak256Js(input)), `length ${length}`).toBe(expected);
    }
  });

  it("hashes a view of a larger buffer, not its backing store", () => {
    const backing = randomBytes(100);
    const view = new Uint8Array(backing.buffer, backing.byteOffset + 10, 64);
    expect(hex(keccak256(view))).toBe(ethersKeccak256(backing.subarray(10, 74)));
  });

  it("returns a fresh digest each time: the reused sponge leaks nothing into the next hash", () => {
    const first = keccak256(Buffer.from("first"));
    const firstCopy = hex(first);
    const second = keccak256(Buffer.from("second"));
    expect(hex(first)).toBe(firstCopy);
    expect(hex(second)).toBe(ethersKeccak256(Buffer.from("second")));
    expect(hex(keccak256(new Uint8Array(0)))).toBe(
      "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    );
  });
});
