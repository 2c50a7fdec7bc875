/**
 * `npm run wallet` with verifiable claims, as a person runs it: `attest` gets a credential from
 * the development attestor of a running server (DEV_ATTESTOR on, same DATA_DIR), `login`
 * presents it when a browser's login asks for claims, and `demo --auto --claim` plays both
 * sides. Each command is a real child process.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { runWalletCli, walletCliLogin } from "../support/wallet-cli";
import { connectSocket, startLogin, StateRecorder } from "./helpers";

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ DEV_ATTESTOR: "true" });
});
afterAll(async () => {
  await app?.stop();
});

const wallet = (...args: string[]) => runWalletCli(app, args, 30_000);

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

    expect(await walletCliLogin(app, ["age_over_18"], wallet)).toEqual({ age_over_18: true });
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
