/**
 * `npm run wallet` with verifiable claims, as a person runs it: `attest` gets a credential from
 * the development attestor of a running server (DEV_ATTESTOR on, same DATA_DIR), `login`
 * presents it when a browser's login asks for claims, and `demo --auto --claim` plays both
 * sides. Each command is a real child process.
 */
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedeemResponse } from "../../lib/protocol/login";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { connectSocket, postJson, startLogin, StateRecorder } from "./helpers";

const run = promisify(execFile);
const CLI = path.resolve("scripts/wallet-cli.ts");
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ DEV_ATTESTOR: "true" });
});
afterAll(async () => {
  await app?.stop();
});

async function wallet(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", CLI, ...args], {
      env: { ...process.env, DATA_DIR: app.dataDir, PUBLIC_URL: app.baseUrl, NODE_ENV: "test" },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

describe("wallet CLI and verifiable claims", () => {
  it("refuses to answer a login that asks for claims before it has a credential, signing nothing", async () => {
    const { socket } = await connectSocket(app.baseUrl);
    const states = new StateRecorder(socket);
    try {
      const session = await startLogin(socket, { requiredClaims: ["email"] });
      const result = await wallet("login", session.qr, "--match", session.matchCode);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain("claims_missing");
      expect(result.stderr).toContain("attest");
      // Only the scan happened: the session is still open for a second try.
      await states.waitForState(session.sessionId, "scanned");
      expect(states.states(session.sessionId)).toEqual(["scanned"]);
    } finally {
      socket.disconnect();
    }
  }, 60_000);

  it("attests claims, then presents them in a login: the user gets exactly the requested ones", async () => {
    const attested = await wallet("attest", "--claim", "email=ada@example.com", "--claim", "age_over_18=true");
    expect(attested.code).toBe(0);
    expect(attested.stdout).toContain("Attested email, age_over_18");
    const saved = await readFile(path.join(app.dataDir, "wallet-cli-credential.txt"), "utf8");
    expect(saved.trim()).toMatch(/^[\w-]+\.[\w-]+\.[\w-]+(~[\w-]+)+~$/);

    const { socket } = await connectSocket(app.baseUrl);
    const states = new StateRecorder(socket);
    try {
      const session = await startLogin(socket, { requiredClaims: ["age_over_18"] });
      const result = await wallet("login", session.qr, "--match", session.matchCode);
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const approved = await states.waitForState(session.sessionId, "approved");
      const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
        sessionId: session.sessionId,
        browserSecret: session.browserSecret,
        code: approved.code,
      });
      expect(redeemed.body.user.claims).toEqual({ age_over_18: true });
    } finally {
      socket.disconnect();
    }
  }, 60_000);

  it("demo --auto --claim plays the browser and a wallet with an attested claim", async () => {
    const result = await wallet("demo", "--auto", "--claim", "nickname=ada", "--endpoint", app.baseUrl);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Claims: {"nickname":"ada"}');
  }, 60_000);

  it("answers a usage error for a malformed --claim", async () => {
    const result = await wallet("attest", "--claim", "no-equals-sign");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--claim takes name=value");
  }, 60_000);
});
