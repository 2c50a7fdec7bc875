/**
 * `npm run wallet -- request-credential` and `credentials` as a person runs them (each command a
 * real child process) against a real server: a credential granted at once, one that waits until
 * an admin approves it, the list with issuer, claims and status (revoked after an admin revokes
 * it), delete, and `login` presenting a kept credential to a login that asks for its claim.
 */
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AdminRequestView } from "../../lib/protocol/attestor";
import { createWalletKey, importWalletKey } from "../../lib/wallet";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { WALLET_CLI, runWalletCli, walletCliEnv, walletCliLogin } from "../support/wallet-cli";
import { WAIT_MS, logIn, postJson, request } from "./helpers";

const admin = createWalletKey();
let app: TestApp;
let adminToken: string;

beforeAll(async () => {
  app = await startTestApp({ ADMIN_ADDRESSES: admin.address, STATUS_LIST_TTL_SECONDS: "1" });
  adminToken = (await logIn(app.baseUrl, admin)).redeemed.accessToken;
}, 60_000);
afterAll(async () => {
  await app?.stop();
});

const wallet = (...args: string[]) => runWalletCli(app, args, 60_000);

const adminHeaders = () => ({ authorization: `Bearer ${adminToken}` });

describe("wallet CLI credentials", () => {
  it("request-credential gets member_since for the CLI's wallet, credentials lists it, login presents it", async () => {
    // The CLI's key (made on first use) signs in once, so the attestor knows the address.
    expect((await wallet("key")).code).toBe(0);
    const keyFile = JSON.parse(await readFile(path.join(app.dataDir, "wallet-cli-key.json"), "utf8")) as {
      privateKey: string;
    };
    await logIn(app.baseUrl, importWalletKey(keyFile.privateKey));

    const requested = await wallet("request-credential", "--claim", "member_since");
    expect(requested.stderr).toBe("");
    expect(requested.code).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    expect(requested.stdout).toContain(`{"member_since":"${today}"}`);

    const listed = await wallet("credentials");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/ valid\n/);
    expect(listed.stdout).toContain(`issuer:  ${app.baseUrl}/attestor`);
    expect(listed.stdout).toContain(`claims:  {"member_since":"${today}"}`);

    expect(await walletCliLogin(app, ["member_since"], wallet)).toEqual({ member_since: today });
  }, 120_000);

  it("request-credential waits for an admin's approval of verified_email; a revoke shows in the list; delete removes it", async () => {
    const child = spawn(
      process.execPath,
      ["--import", "tsx", WALLET_CLI, "request-credential", "--claim", "verified_email", "--email", "cli@example.com"],
      { env: walletCliEnv(app), stdio: ["ignore", "pipe", "pipe"] },
    );
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
    try {
      const deadline = Date.now() + 4 * WAIT_MS;
      while (!/Request (\S+) waits for an admin/.test(stdout) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const id = /Request (\S+) waits for an admin/.exec(stdout)?.[1];
      expect(id, `stdout: ${stdout}\nstderr: ${stderr}`).toBeDefined();
      const approved = await postJson(`${app.baseUrl}/api/attestor/admin/requests/${id}/approve`, {}, adminHeaders());
      expect(approved.status).toBe(200);
      expect(await exited).toBe(0);
      expect(stdout).toContain('{"verified_email":"cli@example.com"}');

      const revoked = await postJson<{ request: AdminRequestView }>(
        `${app.baseUrl}/api/attestor/admin/requests/${id}/revoke`,
        {},
        adminHeaders(),
      );
      expect(revoked.body.request.credentialStatus).toBe("revoked");
      // The list's own Cache-Control is 1 s here; the CLI fetches it fresh.
      const listed = await wallet("credentials");
      expect(listed.stdout).toContain(`${id}  revoked`);

      const deleted = await wallet("credentials", "--delete", id!);
      expect(deleted.code).toBe(0);
      expect((await wallet("credentials")).stdout).not.toContain(id!);
      expect((await wallet("credentials", "--delete", id!)).code).toBe(1);
    } finally {
      child.kill();
    }
    const list = await request<{ requests: AdminRequestView[] }>(`${app.baseUrl}/api/attestor/admin/requests`, {
      headers: adminHeaders(),
    });
    expect(list.status).toBe(200);
  }, 120_000);

  it("answers usage errors and the attestor's refusal with their exit codes", async () => {
    expect((await wallet("request-credential")).code).toBe(2);
    expect((await wallet("request-credential", "--claim", "a=b")).code).toBe(2);
    const refused = await wallet("request-credential", "--claim", "age_over_18");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("claim_refused");
  }, 60_000);
});
