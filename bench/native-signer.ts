/**
 * The simulated wallets' signer: EIP-191 personal_sign with native libsecp256k1 (the `secp256k1`
 * package's N-API addon), so the load generator does not cap the benchmark the way ethers' signing
 * (~1-3k/s) would. Falls back to @noble/curves when the addon is missing, and says so.
 */
import { createRequire } from "node:module";
import { randomBytes } from "node:crypto";
import { secp256k1 as noble } from "@noble/curves/secp256k1.js";
import { computeAddress, verifyMessage } from "ethers";
import { hashPersonalMessage, toHex } from "../server/crypto/eip191";

interface NativeSecp256k1 {
  privateKeyVerify(privateKey: Uint8Array): boolean;
  publicKeyCreate(privateKey: Uint8Array, compressed: boolean): Uint8Array;
  ecdsaSign(msg32: Uint8Array, privateKey: Uint8Array): { signature: Uint8Array; recid: number };
}

export type SignerBackend = "native" | "js";

export interface BenchWallet {
  /** EIP-55 checksummed. */
  address: string;
  /** 0x + r || s || v (27/28), low-s, as wallets send it. */
  signPersonal(text: string): string;
}

function loadNative(): NativeSecp256k1 | null {
  try {
    // Not the package root: its silent fallback is the slow `elliptic` code.
    const specifier = "secp256k1/bindings";
    const addon = createRequire(import.meta.url)(specifier) as NativeSecp256k1;
    return typeof addon.ecdsaSign === "function" ? addon : null;
  } catch {
    return null;
  }
}

const native = loadNative();
export const signerBackend: SignerBackend = native ? "native" : "js";

function createPrivateKey(): Uint8Array {
  for (;;) {
    const key = new Uint8Array(randomBytes(32));
    if (native ? native.privateKeyVerify(key) : noble.utils.isValidSecretKey(key)) return key;
  }
}

function sign(digest: Uint8Array, privateKey: Uint8Array): Uint8Array {
  const out = new Uint8Array(65);
  if (native) {
    const { signature, recid } = native.ecdsaSign(digest, privateKey);
    out.set(signature, 0);
    out[64] = 27 + recid;
    return out;
  }
  // noble's "recovered" layout puts the recovery byte first.
  const recovered = noble.sign(digest, privateKey, { prehash: false, format: "recovered" });
  out.set(recovered.subarray(1, 65), 0);
  out[64] = 27 + (recovered[0] ?? 0);
  return out;
}

export function createBenchWallet(): BenchWallet {
  const privateKey = createPrivateKey();
  const publicKey = native ? native.publicKeyCreate(privateKey, false) : noble.getPublicKey(privateKey, false);
  const address = computeAddress(toHex(publicKey));
  const wallet: BenchWallet = {
    address,
    signPersonal: (text) => toHex(sign(hashPersonalMessage(text), privateKey)),
  };
  return wallet;
}

/** Throws unless a signature made here recovers, with ethers, to the wallet's address. */
export function checkBenchSigner(): void {
  const wallet = createBenchWallet();
  const text = "wallet-login bench signer self-check";
  const recovered = verifyMessage(text, wallet.signPersonal(text));
  if (recovered !== wallet.address) {
    throw new Error(
      `bench signer (${signerBackend}) made a signature that recovers to ${recovered}, not ${wallet.address}`,
    );
  }
}
