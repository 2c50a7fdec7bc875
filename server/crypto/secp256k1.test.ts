import { randomBytes } from "node:crypto";
import { Signature, Wallet, hashMessage, verifyMessage } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { hashPersonalMessage, parseSignatureHex, recoverPersonalSign, toHex } from "./eip191";
import {
  createSignatureVerifier,
  runSelfTest,
  SELF_TEST_VECTOR,
  type NativeSecp256k1,
  type SignatureVerifier,
} from "./secp256k1";

const N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const P = 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2fn;

function toBytes32(value: bigint): Uint8Array {
  return Uint8Array.from(Buffer.from(value.toString(16).padStart(64, "0"), "hex"));
}

function fromBytes32(bytes: Uint8Array): bigint {
  return BigInt(toHex(bytes));
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** A signature with its r, s or v replaced. */
function withParts(signature: Uint8Array, parts: { r?: bigint; s?: bigint; v?: number }): Uint8Array {
  const out = signature.slice();
  if (parts.r !== undefined) out.set(toBytes32(parts.r), 0);
  if (parts.s !== undefined) out.set(toBytes32(parts.s), 32);
  if (parts.v !== undefined) out[64] = parts.v;
  return out;
}

interface Sample {
  message: string;
  address: string;
  signatureHex: string;
}

function makeSamples(count: number): Sample[] {
  return Array.from({ length: count }, (_, i) => {
    const wallet = new Wallet(toHex(randomBytes(32)));
    const message = i % 3 === 0 ? `ünïcode ✓ ${i} ${toHex(randomBytes(8))}` : toHex(randomBytes(i % 200));
    return { message, address: wallet.address, signatureHex: wallet.signMessageSync(message) };
  });
}

let native: SignatureVerifier | null = null;
let nativeError = "";
let js: SignatureVerifier;
const samples = makeSamples(100);

beforeAll(async () => {
  js = await createSignatureVerifier("js");
  try {
    native = await createSignatureVerifier("native");
  } catch (error) {
    nativeError = String(error);
    console.warn(`native secp256k1 tests skipped: ${nativeError}`);
  }
});

function verifiers(): SignatureVerifier[] {
  return native ? [native, js] : [js];
}

describe("createSignatureVerifier", () => {
  it("gives the requested backends", async () => {
    expect(js.backend).toBe("js");
    expect(js.fallbackReason).toBeUndefined();
    if (native) expect(native.backend).toBe("native");
    const auto = await createSignatureVerifier();
    expect(auto.backend).toBe(native ? "native" : "js");
  });

  it("the hard-coded known answer is what ethers computes", () => {
    expect(hashMessage(SELF_TEST_VECTOR.message)).toBe(`0x${SELF_TEST_VECTOR.digestHex}`);
    expect(toHex(hashPersonalMessage(SELF_TEST_VECTOR.message))).toBe(`0x${SELF_TEST_VECTOR.digestHex}`);
    expect(verifyMessage(SELF_TEST_VECTOR.message, `0x${SELF_TEST_VECTOR.signatureHex}`)).toBe(
      SELF_TEST_VECTOR.address,
    );
    for (const verifier of verifiers()) expect(runSelfTest(verifier)).toBeNull();
  });
});

describe("self-test fallback", () => {
  const wrongKey: NativeSecp256k1 = {
    // A valid-looking but wrong public key: the generator point.
    ecdsaRecover: () =>
      Uint8Array.from(
        Buffer.from(
          "0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798" +
            "483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8",
          "hex",
        ),
      ),
  };

  it("falls back to js when native loads but answers wrongly", async () => {
    const verifier = await createSignatureVerifier("auto", { loadNative: () => wrongKey });
    expect(verifier.backend).toBe("js");
    expect(verifier.fallbackReason).toMatch(/self-test/);
    await expect(createSignatureVerifier("native", { loadNative: () => wrongKey })).rejects.toThrow(/self-test/);
  });

  it("falls back to js when native ignores the digest", async () => {
    // Returns the right key for every input, so only the tampered-digest half of the test catches it.
    const wallet = new Wallet("0x4c11111111111111111111111111111111111111111111111111111111111111");
    expect(wallet.address).toBe(SELF_TEST_VECTOR.address);
    const expectedKey = Uint8Array.from(Buffer.from(wallet.signingKey.publicKey.slice(2), "hex"));
    const constant: NativeSecp256k1 = { ecdsaRecover: () => expectedKey };
    const verifier = await createSignatureVerifier("auto", { loadNative: () => constant });
    expect(verifier.backend).toBe("js");
    expect(verifier.fallbackReason).toMatch(/tampered/);
  });

  it("falls back to js when the addon is missing or throws on load", async () => {
    const missing = await createSignatureVerifier("auto", { loadNative: () => null });
    expect(missing.backend).toBe("js");
    expect(missing.fallbackReason).toMatch(/not available/);
    const broken = await createSignatureVerifier("auto", {
      loadNative: () => {
        throw new Error("Cannot find module");
      },
    });
    expect(broken.backend).toBe("js");
    expect(broken.fallbackReason).toMatch(/did not load/);
    await expect(createSignatureVerifier("native", { loadNative: () => null })).rejects.toThrow();
  });

  it("never loads native when js is asked for", async () => {
    let loads = 0;
    const verifier = await createSignatureVerifier("js", {
      loadNative: () => {
        loads++;
        return null;
      },
    });
    expect(verifier.backend).toBe("js");
    expect(loads).toBe(0);
  });
});

describe("recovery agrees with ethers.verifyMessage", () => {
  it("for random keys and messages, on every backend", () => {
    for (const verifier of verifiers()) {
      for (const { message, address, signatureHex } of samples) {
        expect(verifyMessage(message, signatureHex)).toBe(address);
        expect(recoverPersonalSign(verifier, message, signatureHex), verifier.backend).toBe(address);
      }
    }
  });

  it("reads inputs that are views into a larger buffer", () => {
    for (const verifier of verifiers()) {
      const { message, address, signatureHex } = samples[2] as Sample;
      const signature = parseSignatureHex(signatureHex) as Uint8Array;
      const backing = new Uint8Array(200);
      backing.set(hashPersonalMessage(message), 7);
      backing.set(signature, 101);
      expect(verifier.recoverAddress(backing.subarray(7, 39), backing.subarray(101, 166))).toBe(address);
    }
  });

  it("accepts v as 0/1 as well as 27/28", () => {
    for (const verifier of verifiers()) {
      for (const { message, address, signatureHex } of samples.slice(0, 20)) {
        const signature = parseSignatureHex(signatureHex);
        if (!signature) throw new Error("bad sample");
        const digest = hashPersonalMessage(message);
        const v = signature[64] ?? 0;
        expect(verifier.recoverAddress(digest, withParts(signature, { v: v - 27 }))).toBe(address);
      }
    }
  });
});

describe("invalid signatures", () => {
  const sample = samples[0] as Sample;
  const signature = parseSignatureHex(sample.signatureHex) as Uint8Array;
  const digest = hashPersonalMessage(sample.message);
  const r = fromBytes32(signature.subarray(0, 32));
  const s = fromBytes32(signature.subarray(32, 64));
  const v = signature[64] ?? 27;

  // The smallest x that is not the x-coordinate of a curve point (x^3 + 7 not a square mod p).
  let notOnCurve = 1n;
  while (modPow((notOnCurve ** 3n + 7n) % P, (P - 1n) / 2n, P) === 1n) notOnCurve++;

  const cases: Array<[string, Uint8Array]> = [
    ["v = 29", withParts(signature, { v: 29 })],
    ["v = 26", withParts(signature, { v: 26 })],
    ["v = 2", withParts(signature, { v: 2 })],
    ["v = 37 (EIP-155)", withParts(signature, { v: 37 })],
    ["v = 255", withParts(signature, { v: 255 })],
    ["r = 0", withParts(signature, { r: 0n })],
    ["s = 0", withParts(signature, { s: 0n })],
    ["r = n", withParts(signature, { r: N })],
    ["r = 2^256 - 1", withParts(signature, { r: 2n ** 256n - 1n })],
    ["s = n", withParts(signature, { s: N })],
    ["s = 2^256 - 1", withParts(signature, { s: 2n ** 256n - 1n })],
    ["high s (n - s, v flipped)", withParts(signature, { s: N - s, v: v === 27 ? 28 : 27 })],
    ["s = n/2 + 1", withParts(signature, { s: N / 2n + 1n })],
    ["r not an x-coordinate", withParts(signature, { r: notOnCurve })],
    ["64 bytes", signature.slice(0, 64)],
    ["66 bytes", Uint8Array.from([...signature, 0])],
    ["empty", new Uint8Array(0)],
  ];

  it.each(cases)("%s gives null on every backend", (_name, bad) => {
    for (const verifier of verifiers()) expect(verifier.recoverAddress(digest, bad), verifier.backend).toBeNull();
  });

  it("the high-s twin is a valid signature (so refusing it is our rule, as ethers does)", () => {
    const twin = Signature.from({ r: toHex(toBytes32(r)), s: toHex(toBytes32(N - s)), v: v === 27 ? 28 : 27 });
    expect(() => verifyMessage(sample.message, twin.serialized)).toThrow(/non-canonical s/);
  });

  it("s = n/2 is still accepted and recovers the same key on every backend", () => {
    const edge = withParts(signature, { s: N / 2n });
    const addresses = verifiers().map((verifier) => verifier.recoverAddress(digest, edge));
    expect(addresses[0]).toMatch(/^0x[0-9a-fA-F]{40}$/);
    expect(new Set(addresses).size).toBe(1);
  });

  it("a digest of the wrong length gives null", () => {
    for (const verifier of verifiers()) {
      expect(verifier.recoverAddress(digest.slice(0, 31), signature)).toBeNull();
      expect(verifier.recoverAddress(new Uint8Array(33), signature)).toBeNull();
    }
  });

  it("a tampered message or a flipped v recovers another address", () => {
    for (const verifier of verifiers()) {
      const tampered = recoverPersonalSign(verifier, `${sample.message} `, sample.signatureHex);
      expect(tampered).not.toBe(sample.address);
      const flipped = verifier.recoverAddress(digest, withParts(signature, { v: v === 27 ? 28 : 27 }));
      expect(flipped).not.toBe(sample.address);
    }
  });

  it("another key's signature recovers that key, not the expected one", () => {
    const other = samples[1] as Sample;
    for (const verifier of verifiers()) {
      const recovered = recoverPersonalSign(
        verifier,
        sample.message,
        new Wallet(toHex(randomBytes(32))).signMessageSync(sample.message),
      );
      expect(recovered).not.toBe(sample.address);
      expect(recoverPersonalSign(verifier, sample.message, other.signatureHex)).not.toBe(sample.address);
    }
  });

  it("never throws on random bytes", () => {
    for (const verifier of verifiers()) {
      for (let i = 0; i < 200; i++) {
        const junk = randomBytes(65);
        junk[64] = 27 + (i % 2);
        const result = verifier.recoverAddress(randomBytes(32), junk);
        expect(result === null || /^0x[0-9a-fA-F]{40}$/.test(result)).toBe(true);
      }
    }
  });
});
