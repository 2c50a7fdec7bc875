/** `npm run app`: create, list, disable, enable against a fresh SQLite database. */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet, hexlify, randomBytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runAppCli } from "../../scripts/app-cli";

let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), "wallet-login-app-cli-"));
});
afterAll(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

async function run(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAppCli(argv, {
    env: { NODE_ENV: "test", DATA_DIR: dataDir },
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("app CLI", () => {
  it("creates an ownerless app with --json: {appId, address, privateKey}", async () => {
    const { code, out } = await run("create", "--name", "Nightly export", "--json");
    expect(code).toBe(0);
    const created = JSON.parse(out) as { appId: string; address: string; privateKey: string };
    expect(new Wallet(created.privateKey).address).toBe(created.address);
    const listed = JSON.parse((await run("list", "--json")).out) as Array<Record<string, unknown>>;
    expect(listed).toContainEqual(
      expect.objectContaining({ id: created.appId, name: "Nightly export", owner: null, active: true }),
    );
  });

  it("creates an app for an owner (made if missing) with an existing address and a rate limit", async () => {
    const owner = new Wallet(hexlify(randomBytes(32))).address;
    const address = new Wallet(hexlify(randomBytes(32))).address;
    const args = [
      "create",
      "--name",
      "Mine",
      "--owner",
      owner.toLowerCase(),
      "--address",
      address,
      "--rate-limit",
      "5",
    ];
    const { code, out } = await run(...args, "--json");
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ appId: expect.any(String), address, privateKey: null });
    const listed = JSON.parse((await run("list", "--json")).out) as Array<Record<string, unknown>>;
    expect(listed).toContainEqual(expect.objectContaining({ name: "Mine", owner, rateLimitPerMinute: 5 }));
    // The same owner again is the same user.
    expect((await run("create", "--name", "Second", "--owner", owner)).code).toBe(0);
  });

  it("prints the generated key once with a warning, and lists as a table", async () => {
    const { code, out } = await run("create", "--name", "Readable");
    expect(code).toBe(0);
    expect(out).toMatch(/private key {2}0x[0-9a-f]{64}/);
    expect(out).toMatch(/shown once/);
    const table = await run("list");
    expect(table.out.split("\n")[0]).toMatch(/^id +name +address +owner +created +last use +active$/);
    expect(table.out).not.toMatch(/0x[0-9a-f]{64}/);
  });

  it("disables and enables by id; 1 for an unknown id", async () => {
    const created = JSON.parse((await run("create", "--name", "Toggle", "--json")).out) as { appId: string };
    expect(await run("disable", created.appId)).toMatchObject({ code: 0, out: `${created.appId} disabled.` });
    const listed = JSON.parse((await run("list", "--json")).out) as Array<{ id: string; active: boolean }>;
    expect(listed.find((app) => app.id === created.appId)?.active).toBe(false);
    expect(await run("enable", created.appId)).toMatchObject({ code: 0, out: `${created.appId} enabled.` });
    expect((await run("disable", "no-such-app")).code).toBe(1);
  });

  it("answers usage errors with 2", async () => {
    for (const argv of [
      [],
      ["create"],
      ["create", "--name", ""],
      ["create", "--name", "x".repeat(101)],
      ["create", "--name", "x", "--owner", "0x12"],
      ["create", "--name", "x", "--rate-limit", "0"],
      ["disable"],
      ["frobnicate"],
      ["list", "--bogus"],
    ]) {
      expect({ argv, code: (await run(...argv)).code }).toEqual({ argv, code: 2 });
    }
    expect((await run("--help")).code).toBe(0);
  });
});
