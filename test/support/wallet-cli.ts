/**
 * `npm run wallet` (scripts/wallet-cli.ts) as a person runs it, a real child process against a test
 * server (its DATA_DIR and PUBLIC_URL), for the wallet CLI suites in test/protocol.
 */
import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "vitest";
import { connectSocket, redeemApproved, startLogin, StateRecorder } from "../protocol/helpers";

const run = promisify(execFile);
export const WALLET_CLI = path.resolve("scripts/wallet-cli.ts");

export interface CliServer {
  baseUrl: string;
  dataDir: string;
}

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function walletCliEnv(server: CliServer): NodeJS.ProcessEnv {
  return { ...process.env, DATA_DIR: server.dataDir, PUBLIC_URL: server.baseUrl, NODE_ENV: "test" };
}

/** The CLI with `args`, to its exit (or `timeoutMs`): its exit code and output. */
export async function runWalletCli(server: CliServer, args: string[], timeoutMs: number): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", WALLET_CLI, ...args], {
      env: walletCliEnv(server),
      timeout: timeoutMs,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

/**
 * A browser's login asking for `requiredClaims`, answered by `wallet login` (run with `wallet`),
 * which must succeed quietly; the claims of the redeemed user.
 */
export async function walletCliLogin(
  server: CliServer,
  requiredClaims: string[],
  wallet: (...args: string[]) => Promise<CliResult>,
) {
  const { socket } = await connectSocket(server.baseUrl);
  const states = new StateRecorder(socket);
  try {
    const session = await startLogin(socket, { requiredClaims });
    const result = await wallet("login", session.qr, "--match", session.matchCode);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    return (await redeemApproved(server.baseUrl, states, session)).body.user.claims;
  } finally {
    socket.disconnect();
  }
}
