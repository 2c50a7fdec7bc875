import { describe, expect, it } from "vitest";
import { utf8ByteLength } from "./channels";

describe("utf8ByteLength", () => {
  it("counts as TextEncoder encodes, lone surrogates included", () => {
    const samples = ["", "abc", "é", "€", "😀", "a😀b€é", "\ud800", "x\udc00y", "\ud83d", "\ud83d\ud83d\ude00"];
    for (const text of samples)
      expect(utf8ByteLength(text), JSON.stringify(text)).toBe(new TextEncoder().encode(text).length);
  });
});
