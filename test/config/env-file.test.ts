/**
 * `.env`: the npm scripts that start the server (`npm run dev`, `npm start`) hand it to Node
 * with --env-file-if-exists=.env. Variables set in the environment win over the file, and a
 * missing file is no error. The server itself reads only the environment, so test servers
 * (started without that flag) never pick up a developer's .env.
 */
import { existsSync, readFileSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT, spawnServerProcess, type ServerProcess } from "../support/server-process";

const ENV_FILE_FLAG = "--env-file-if-exists=.env";
const started: ServerProcess[] = [];
const folders: string[] = [];

afterAll(async () => {
  await Promise.all(started.map((server) => server.stop()));
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

async function tempFolder() {
  const folder = await mkdtemp(path.join(tmpdir(), "wallet-login-env-file-"));
  folders.push(folder);
  return folder;
}

describe(".env", () => {
  it("is read by the scripts that start the server", () => {
    const { scripts } = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    };
    expect(scripts.dev).toContain(ENV_FILE_FLAG);
    expect(scripts.start).toContain(ENV_FILE_FLAG);
    // Development only when asked for: the server's own default is production.
    expect(scripts.dev).toMatch(/^NODE_ENV=development /);
  });

  it("sets what the environment leaves unset, and the environment wins", async () => {
    const folder = await tempFolder();
    const dataDir = path.join(folder, "data-from-env-file");
    // LOG_LEVEL=nonsense would stop the server (ConfigError): the harness's LOG_LEVEL=warn must win.
    await writeFile(path.join(folder, ".env"), `DATA_DIR=${dataDir}\nLOG_LEVEL=nonsense\n`);
    const server = spawnServerProcess(
      "env-file",
      0,
      {},
      {
        nodeFlags: [ENV_FILE_FLAG.replace("=.env", `=${path.join(folder, ".env")}`)],
      },
    );
    started.push(server);
    await server.waitUntilHealthy();
    expect(existsSync(path.join(dataDir, "app.db"))).toBe(true);
  });

  it("may be missing", async () => {
    const folder = await tempFolder();
    const server = spawnServerProcess(
      "no-env-file",
      0,
      { DATA_DIR: path.join(folder, "data") },
      { nodeFlags: [ENV_FILE_FLAG.replace("=.env", `=${path.join(folder, ".env")}`)] },
    );
    started.push(server);
    await server.waitUntilHealthy();
    expect(existsSync(path.join(folder, "data", "app.db"))).toBe(true);
  });
});
