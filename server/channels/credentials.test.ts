import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { APP_CREDENTIALS_FILE, loadOrCreateAppCredentials } from "./credentials";

const folders: string[] = [];
async function makeDataDir() {
  const folder = await mkdtemp(path.join(tmpdir(), "wallet-login-credentials-"));
  folders.push(folder);
  return folder;
}
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});

describe("loadOrCreateAppCredentials", () => {
  it("generates credentials once into a 0600 file in a 0700 folder, then reuses them", async () => {
    const dataDir = await makeDataDir();
    const first = await loadOrCreateAppCredentials(dataDir, {});
    expect(first.source).toBe("generated");
    expect(first.appId).toMatch(/^\d{6,7}$/);
    expect(first.key).toMatch(/^[0-9a-f]{20}$/);
    expect(first.secret).toMatch(/^[0-9a-f]{64}$/);
    const file = path.join(dataDir, APP_CREDENTIALS_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);

    const again = await loadOrCreateAppCredentials(dataDir, {});
    expect(again).toEqual({ ...first, source: "file" });
  });

  it("agrees on one set when several nodes start together on one data dir", async () => {
    const dataDir = await makeDataDir();
    const all = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateAppCredentials(dataDir, {})));
    const secrets = new Set(all.map((credentials) => credentials.secret));
    expect(secrets.size).toBe(1);
  });

  it("takes the environment's values, and touches no file when all three are set", async () => {
    const dataDir = await makeDataDir();
    const fromEnv = { appId: "42", key: "key-1", secret: "s".repeat(32) };
    expect(await loadOrCreateAppCredentials(dataDir, fromEnv)).toEqual({ ...fromEnv, source: "env" });
    await expect(stat(path.join(dataDir, APP_CREDENTIALS_FILE))).rejects.toThrow();

    const mixed = await loadOrCreateAppCredentials(dataDir, { appId: "43" });
    expect(mixed.appId).toBe("43");
    const stored = JSON.parse(await readFile(path.join(dataDir, APP_CREDENTIALS_FILE), "utf8")) as { key: string };
    expect(mixed.key).toBe(stored.key);
  });

  it("refuses a broken file without quoting it", async () => {
    const dataDir = await makeDataDir();
    await loadOrCreateAppCredentials(dataDir, {});
    const file = path.join(dataDir, APP_CREDENTIALS_FILE);
    await writeFile(file, '{"appId":"1","key":"k","secret":"TOPSECRETVALUE');
    await expect(loadOrCreateAppCredentials(dataDir, {})).rejects.toThrow(/not valid JSON/);
    await expect(loadOrCreateAppCredentials(dataDir, {})).rejects.not.toThrow(/TOPSECRET/);
    await writeFile(file, JSON.stringify({ appId: "1", key: "k", secret: "short" }));
    await expect(loadOrCreateAppCredentials(dataDir, {})).rejects.toThrow(/does not hold/);
  });
});
