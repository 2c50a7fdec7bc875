/**
 * `npm run wallet -- pair` and `listen` as a person runs them, each a real child process against a
 * real server: pairing saves the device, listen prints a push with its context and takes the
 * typed number from stdin, the non-interactive --number / --not-me answers, and a request the
 * server lost (`push:closed` `store_reset`) told in words.
 */
import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RedeemResponse } from "../../lib/protocol/login";
import { createWalletKey } from "../../lib/wallet";
import { closeForgottenPushes } from "../../server/realtime/push-handlers";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { WALLET_CLI, runWalletCli, walletCliEnv } from "../support/wallet-cli";
import { WAIT_MS, connectSocket, emitAck, postJson, startLogin, StateRecorder } from "./helpers";

const CLI_WAIT_MS = 4 * WAIT_MS;
let app: TestApp;
const children: ChildProcessWithoutNullStreams[] = [];
const sockets: Array<{ disconnect(): void }> = [];

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill();
  for (const socket of sockets) socket.disconnect();
  await app?.stop();
});

const wallet = (...args: string[]) => runWalletCli(app, args, CLI_WAIT_MS);

/** A running `listen`, with waits on its output and its exit. */
function listen(...args: string[]) {
  const child = spawn(process.execPath, ["--import", "tsx", WALLET_CLI, "listen", ...args], { env: walletCliEnv(app) });
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1)));
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    async waitForOutput(text: string): Promise<void> {
      const start = Date.now();
      while (!stdout.includes(text)) {
        if (child.exitCode !== null || Date.now() - start > CLI_WAIT_MS) {
          throw new Error(`no "${text}" in time; stdout: ${stdout}; stderr: ${stderr}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
  };
}

async function pairedKey(name: string) {
  const key = createWalletKey();
  const paired = await wallet("pair", "--key", key.privateKey, "--name", name);
  expect(paired.stderr).toBe("");
  expect(paired.code).toBe(0);
  return key;
}

async function pushTo(address: string) {
  const { socket } = await connectSocket(app.baseUrl);
  sockets.push(socket);
  const states = new StateRecorder(socket);
  const ack = (await emitAck(socket, "login:push", { address })) as unknown as {
    ok: true;
    session: { sessionId: string; matchCode: string; browserSecret: string };
  };
  expect(ack.ok).toBe(true);
  return { states, session: ack.session };
}

describe("wallet CLI push login", () => {
  it("pairs, listens, prints the request with its context and approves with the number typed on stdin", async () => {
    const key = await pairedKey("CLI phone");
    const saved = JSON.parse(await readFile(path.join(app.dataDir, "wallet-cli-devices.json"), "utf8")) as Array<{
      address: string;
      deviceId: string;
    }>;
    const device = saved.find((d) => d.address === key.address);
    expect(device?.deviceId).toMatch(/\S/);

    const listener = listen("--key", key.privateKey, "--once");
    await listener.waitForOutput(`as "CLI phone" (device ${device?.deviceId})`);
    const browser = await pushTo(key.address);
    await listener.waitForOutput("Type the number");
    const { stdout } = listener.output();
    expect(stdout).toContain(`Sign-in request from`);
    expect(stdout).toContain(`Account:  ${key.address}`);
    expect(stdout).toContain("IP:       127.0.0.1 (matches this device's)");
    expect(stdout).toMatch(/Browser: {2}\S+ on \S+/);
    expect(stdout).toMatch(/Time: {5}\d{4}-\d\d-\d\dT/);
    await browser.states.waitForState(browser.session.sessionId, "fetched");

    listener.child.stdin.write("nonsense\n");
    await listener.waitForOutput("Type the two digits, d or n.");
    listener.child.stdin.write(`${browser.session.matchCode}\n`);
    expect(await listener.exited).toBe(0);
    expect(listener.output().stdout).toContain(`Approved: the browser is signing in as ${key.address}.`);
    const approved = await browser.states.waitForState(browser.session.sessionId, "approved");
    const redeemed = await postJson<RedeemResponse>(`${app.baseUrl}/api/auth/redeem`, {
      sessionId: browser.session.sessionId,
      browserSecret: browser.session.browserSecret,
      code: approved.code,
    });
    expect(redeemed.body.user.address).toBe(key.address);
  }, 120_000);

  it('answers "This wasn\'t me" with --not-me: the page is denied with not_me and the event recorded', async () => {
    const key = await pairedKey("Not me phone");
    const listener = listen("--key", key.privateKey, "--not-me", "--once");
    await listener.waitForOutput("Listening for sign-in requests");
    const browser = await pushTo(key.address);
    expect(await listener.exited).toBe(0);
    expect(listener.output().stdout).toContain("Reported: this wasn't me.");
    const denied = await browser.states.waitForState(browser.session.sessionId, "denied");
    expect(denied.reason).toBe("not_me");
    const user = await app.ctx.db.user.findFirst({ where: { address: key.address } });
    const events = await app.ctx.db.securityEvent.findMany({ where: { userId: user?.id } });
    expect(events.map((e) => e.kind)).toEqual(["push_not_me"]);
  }, 120_000);

  it("exits 1 with the protocol's code when the typed number is not the page's, which ends the session", async () => {
    const key = await pairedKey("Wrong number phone");
    const listener = listen("--key", key.privateKey, "--once");
    await listener.waitForOutput("Listening for sign-in requests");
    const browser = await pushTo(key.address);
    await listener.waitForOutput("Type the number");
    listener.child.stdin.write(`${browser.session.matchCode === "42" ? "43" : "42"}\n`);
    expect(await listener.exited).toBe(1);
    expect(listener.output().stderr).toContain("Error (wrong_match_code)");
    const denied = await browser.states.waitForState(browser.session.sessionId, "denied");
    expect(denied.reason).toBe("wrong_match_code");
  }, 120_000);

  it("tells the person when the server lost the request it shows (Redis back empty) and exits 1 with --once", async () => {
    const key = await pairedKey("Reset phone");
    const listener = listen("--key", key.privateKey, "--once");
    await listener.waitForOutput("Listening for sign-in requests");
    const browser = await pushTo(key.address);
    await listener.waitForOutput("Type the number");
    // What the server does when the store comes back without its records (stores.onReset).
    await closeForgottenPushes(app.ctx.io, { isForgotten: async (id) => id === browser.session.sessionId });
    expect(await listener.exited).toBe(1);
    expect(listener.output().stdout).toContain(
      "The request ended before an answer (expired, store_reset). The server lost this request",
    );
  }, 120_000);

  it("refuses to listen for a key that is not paired here, and a malformed --number", async () => {
    const key = createWalletKey();
    const notPaired = await wallet("listen", "--key", key.privateKey);
    expect(notPaired.code).toBe(1);
    expect(notPaired.stderr).toContain("Error (device_not_found)");
    expect(notPaired.stderr).toContain("pair first");
    const bad = await wallet("listen", "--key", key.privateKey, "--number", "7");
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--number takes the two digits");
  }, 120_000);

  it("answers a QR login in QR_MATCH_MODE=type (no choices offered) with the number given as --match", async () => {
    const typeApp = await startTestApp({ QR_MATCH_MODE: "type" });
    const { socket } = await connectSocket(typeApp.baseUrl);
    sockets.push(socket);
    const states = new StateRecorder(socket);
    try {
      const session = await startLogin(socket);
      const result = await wallet("login", session.qr, "--match", session.matchCode);
      expect(result.stdout).toContain("Match code:  type the number the browser shows");
      expect(result.code).toBe(0);
      await states.waitForState(session.sessionId, "approved");
    } finally {
      await typeApp.stop();
    }
  }, 120_000);
});
