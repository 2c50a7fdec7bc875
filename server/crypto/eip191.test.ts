import { randomBytes } from "node:crypto";
import { Wallet, hashMessage } from "ethers";
import { describe, expect, it } from "vitest";
import {
  hashPersonalMessage,
  hashPersonalMessageJs,
  keccakBackend,
  parseSignatureHex,
  recoverPersonalSign,
  toHex,
} from "./eip191";
import { createSignatureVerifier } from "./secp256k1";

describe("hashPersonalMessage", () => {
  it("equals ethers.hashMessage, including multi-byte text and the empty string", () => {
    const texts = ["", "a", "hello world", "ünïcode ✓ 🦊", "line\nbreak", "x".repeat(10_000)];
    for (let i = 0; i < 100; i++) texts.push(randomBytes(i * 3).toString("latin1"));
    for (const text of texts) expect(toHex(hashPersonalMessage(text))).toBe(hashMessage(text));
  });

  it("gives the same hash on the native and the pure-JS Keccak", () => {
    // The optional `keccak` package ships prebuilt addons for linux-x64, darwin-x64 and win32-x64.
    if (["linux-x64", "darwin-x64", "win32-x64"].includes(`${process.platform}-${process.arch}`)) {
      expect(keccakBackend).toBe("native");
    }
    for (const text of ["", "é", "x".repeat(5000), "Sign in\nwith a newline"]) {
      expect(toHex(hashPersonalMessageJs(text))).toBe(hashMessage(text));
      expect(toHex(hashPersonalMessage(text))).toBe(toHex(hashPersonalMessageJs(text)));
    }
  });

  it("uses the UTF-8 byte length, not the string length", () => {
    // "é" is one UTF-16 unit but two bytes; a length-of-string prefix would hash "...:\n1é".
    expect(toHex(hashPersonalMessage("é"))).toBe(hashMessage(new TextEncoder().encode("é")));
  });
});

describe("parseSignatureHex", () => {
  const hex = `0x${"ab".repeat(64)}1b`;

  it("parses exactly 0x + 130 hex digits, any case", () => {
    const bytes = parseSignatureHex(hex);
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect(bytes).toHaveLength(65);
    expect(bytes?.[64]).toBe(27);
    expect(parseSignatureHex(hex.toUpperCase().replace("0X", "0x"))).toEqual(bytes);
  });

  it("refuses anything else", () => {
    for (const bad of [
      hex.slice(2),
      hex.slice(0, -1),
      `${hex}0`,
      `${hex.slice(0, -2)}zz`,
      "0X" + hex.slice(2),
      ` ${hex}`,
      "",
    ]) {
      expect(parseSignatureHex(bad), bad).toBeNull();
    }
    expect(parseSignatureHex(42 as unknown as string)).toBeNull();
  });
});

describe("recoverPersonalSign", () => {
  it("recovers the signer and refuses malformed hex", async () => {
    const wallet = new Wallet(toHex(randomBytes(32)));
    const signature = await wallet.signMessage("Sign in");
    for (const preference of ["js", "auto"] as const) {
      const verifier = await createSignatureVerifier(preference);
      expect(recoverPersonalSign(verifier, "Sign in", signature)).toBe(wallet.address);
      expect(recoverPersonalSign(verifier, "Sign in", signature.slice(0, -2))).toBeNull();
      expect(recoverPersonalSign(verifier, "Sign in!", signature)).not.toBe(wallet.address);
    }
  });
});

describe("toHex", () => {
  it("writes lowercase 0x hex of exactly the view", () => {
    expect(toHex(new Uint8Array([0, 15, 255]))).toBe("0x000fff");
    expect(toHex(new Uint8Array(0))).toBe("0x");
    const backing = new Uint8Array([1, 2, 3, 4]);
    expect(toHex(backing.subarray(1, 3))).toBe("0x0203");
  });
});
