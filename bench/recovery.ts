/**
 * Signature recovery throughput: EIP-191 hash + secp256k1 recovery + checksummed address, the work
 * POST /api/auth and signed data fetches do per request. Our backends are measured beside
 * ethers.verifyMessage in the same run, over the same pool of signed SIWE messages, on one thread.
 */
import { randomBytes } from "node:crypto";
import { Wallet, verifyMessage } from "ethers";
import { formatSiweMessage } from "../lib/protocol/siwe";
import { recoverPersonalSign } from "../server/crypto/eip191";
import { createSignatureVerifier } from "../server/crypto/secp256k1";

export interface RecoveryBenchResult {
  /** opsPerSec per CPU-second of this process (one core's throughput); wallOpsPerSec per elapsed second. */
  rows: Array<{ name: string; opsPerSec: number; wallOpsPerSec?: number }>;
  /** Ours (the backend "auto" picks) over ethers.verifyMessage. */
  ratio: number;
}

interface SignedSample {
  message: string;
  signature: string;
  address: string;
}

const POOL_SIZE = 200;
const BATCH = 20;
const SLICE_MS = 250;

function createPool(): SignedSample[] {
  const issuedAt = new Date().toISOString();
  return Array.from({ length: POOL_SIZE }, () => {
    const wallet = new Wallet(`0x${randomBytes(32).toString("hex")}`);
    const message = formatSiweMessage({
      domain: "localhost:3000",
      address: wallet.address,
      statement: "Sign in to Wallet Login",
      uri: "http://localhost:3000",
      version: "1",
      chainId: 1,
      nonce: randomBytes(12).toString("hex"),
      issuedAt,
      expirationTime: new Date(Date.now() + 120_000).toISOString(),
      requestId: randomBytes(16).toString("base64url"),
    });
    return { message, signature: wallet.signMessageSync(message), address: wallet.address };
  });
}

interface Contender {
  name: string;
  recover: (sample: SignedSample) => string | null;
  ops: number;
  cpuMicros: number;
  wallMs: number;
}

/**
 * Runs the contenders in turns of SLICE_MS until each has had `seconds`, so load from other processes
 * falls on all of them alike. Every answer is checked, so none of the work can be skipped.
 */
function measure(pool: SignedSample[], seconds: number, contenders: Contender[]): void {
  let cursor = 0;
  const run = (contender: Contender) => {
    const sample = pool[cursor++ % pool.length] as SignedSample;
    if (contender.recover(sample) !== sample.address) throw new Error(`${contender.name} recovered a wrong address`);
  };
  for (const contender of contenders) for (let i = 0; i < 50; i++) run(contender);
  while (contenders.some((c) => c.wallMs < seconds * 1000)) {
    for (const contender of contenders) {
      const cpuStart = process.cpuUsage();
      const start = performance.now();
      const end = start + SLICE_MS;
      let now = start;
      while (now < end) {
        for (let i = 0; i < BATCH; i++) run(contender);
        contender.ops += BATCH;
        now = performance.now();
      }
      const cpu = process.cpuUsage(cpuStart);
      contender.cpuMicros += cpu.user + cpu.system;
      contender.wallMs += now - start;
    }
  }
}

export async function benchRecovery(opts: { seconds?: number } = {}): Promise<RecoveryBenchResult> {
  const seconds = opts.seconds ?? 2;
  const pool = createPool();
  const js = await createSignatureVerifier("js");
  const auto = await createSignatureVerifier("auto");
  const native = auto.backend === "native" ? auto : null;

  const contender = (name: string, recover: Contender["recover"]): Contender => ({
    name,
    recover,
    ops: 0,
    cpuMicros: 0,
    wallMs: 0,
  });
  const ethers = contender("ethers.verifyMessage", (s) => verifyMessage(s.message, s.signature));
  const ours = [
    ...(native
      ? [
          contender("recoverPersonalSign (native libsecp256k1)", (s) =>
            recoverPersonalSign(native, s.message, s.signature),
          ),
        ]
      : []),
    contender("recoverPersonalSign (js @noble/curves)", (s) => recoverPersonalSign(js, s.message, s.signature)),
  ];
  const contenders = [ethers, ...ours];
  measure(pool, seconds, contenders);

  const rows = contenders.map((c) => ({
    name: c.name,
    opsPerSec: Math.round((c.ops * 1e6) / c.cpuMicros),
    wallOpsPerSec: Math.round((c.ops * 1000) / c.wallMs),
  }));
  const oursRow = rows[1] as RecoveryBenchResult["rows"][number];
  const ethersRow = rows[0] as RecoveryBenchResult["rows"][number];
  return { rows, ratio: Math.round((oursRow.opsPerSec / ethersRow.opsPerSec) * 10) / 10 };
}
