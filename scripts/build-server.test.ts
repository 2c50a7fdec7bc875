import { execFile, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findFreePort } from "../test/support/free-port";
import { logIn } from "../test/protocol/helpers";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
// Its own output folder (two deep, as the script requires), so a run never touches dist/server.
const OUTDIR = `dist/test-${process.pid}`;

describe("the compiled server (scripts/build-server.mjs)", () => {
  let dataDir = "";
  beforeAll(async () => {
    await promisify(execFile)(process.execPath, ["scripts/build-server.mjs", OUTDIR], { cwd: ROOT });
    dataDir = await mkdtemp(path.join(tmpdir(), "wallet-login-compiled-"));
  });
  afterAll(async () => {
    await rm(path.join(ROOT, OUTDIR), { recursive: true, force: true });
    await rm(dataDir, { recursive: true, force: true });
  });

  it("runs with plain node: migrates, logs in through the SQLite writer thread, exits cleanly", async () => {
    const port = await findFreePort();
    const url = `http://127.0.0.1:${port}`;
    // No --import: a TypeScript module left anywhere in the bundle, the writer thread's
    // included, would fail to load (the thread's failure is logged at error level).
    const child = spawn(process.execPath, [path.join(OUTDIR, "index.js")], {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        NODE_ENV: "production",
        HOST: "127.0.0.1",
        PORT: String(port),
        PUBLIC_URL: url,
        DATA_DIR: dataDir,
        API_ONLY: "true",
        LOG_LEVEL: "info",
        // The writer thread has a module of its own in the bundle: it must load compiled too.
        SQLITE_WRITER_THREAD: "true",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      for (;;) {
        const ok = await fetch(`${url}/api/health`).then(
          (r) => r.ok,
          () => false,
        );
        if (ok) break;
        if (child.exitCode !== null) throw new Error(`the compiled server exited:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      // A complete login writes the user through the writer thread (it answers after its COMMIT).
      const { redeemed } = await logIn(url);
      expect(redeemed.user.address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    } finally {
      child.kill("SIGTERM");
    }
    // Everything it logged has arrived once it has exited.
    expect(await exited).toBe(0);
    const lines = output
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { level: number; msg: string; loginWrites?: string });
    expect(lines.filter((line) => line.level >= 50)).toEqual([]);
    expect(lines.find((line) => line.loginWrites)?.loginWrites).toBe("sqlite-writer-thread");
    // Prisma's migrations were found from the bundle (server/db/migrate.ts reads them beside it).
    expect(lines.some((line) => /^applied \d+ migration/.test(line.msg))).toBe(true);
  });
});
