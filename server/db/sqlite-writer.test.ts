import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Database from "better-sqlite3";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { migrateDatabase } from "./migrate";
import { startSqliteWriter, type SqliteWriter } from "./sqlite-writer";

let dir: string;
let file: string;
const open: SqliteWriter[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "sqlite-writer-"));
  file = path.join(dir, "app.db");
  await migrateDatabase({ url: `file:${file}` });
});

afterAll(async () => {
  await Promise.all(open.map((writer) => writer.close()));
  await rm(dir, { recursive: true, force: true });
});

function start(options: Parameters<typeof startSqliteWriter>[1] = {}): SqliteWriter {
  const writer = startSqliteWriter(file, options);
  open.push(writer);
  return writer;
}

function countRows(table: string, userId: string): number {
  const db = new Database(file, { readonly: true });
  try {
    return (db.prepare(`SELECT count(*) AS n FROM "${table}" WHERE "userId" = ?`).get(userId) as { n: number }).n;
  } finally {
    db.close();
  }
}

describe("the SQLite writer thread", () => {
  it("runs the statements on its thread and answers with what they return", async () => {
    const writer = start();
    const address = Wallet.createRandom().address;
    const user = await writer.recordLogin({ address, ip: "127.0.0.1", userAgent: "test", method: "qr" });
    expect(writer.kind).toBe("sqlite-writer-thread");
    expect(writer.worker).toBeDefined();
    expect(user).toMatchObject({ address, claims: {} });
    expect(user.createdAt).toBeInstanceOf(Date);
    expect(await writer.findUser(user.id)).toEqual(user);
    expect(await writer.findUser("no-such-user")).toBeNull();
    await writer.insertRefreshToken({
      hash: `h-${user.id}`,
      family: "f",
      expiresAt: new Date(Date.now() + 60_000),
      userId: user.id,
    });
    expect(countRows("LoginEvent", user.id)).toBe(1);
    expect(countRows("RefreshToken", user.id)).toBe(1);
  });

  it("refuses a failing write with SQLite's error code, and the others of its batch still commit", async () => {
    const writer = start();
    const user = await writer.recordLogin({ address: Wallet.createRandom().address, method: "qr" });
    const expiresAt = new Date(Date.now() + 60_000);
    const [orphan, good] = await Promise.allSettled([
      writer.insertRefreshToken({ hash: `orphan-${user.id}`, family: "f", expiresAt, userId: "no-such-user" }),
      writer.insertRefreshToken({ hash: `good-${user.id}`, family: "f", expiresAt, userId: user.id }),
    ]);
    expect(orphan.status).toBe("rejected");
    expect((orphan as PromiseRejectedResult).reason).toMatchObject({ code: "SQLITE_CONSTRAINT_FOREIGNKEY" });
    expect(good.status).toBe("fulfilled");
    expect(countRows("RefreshToken", user.id)).toBe(1);
  });

  it("commits what it was asked before close, then refuses new calls", async () => {
    const writer = start();
    const user = await writer.recordLogin({ address: Wallet.createRandom().address, method: "qr" });
    const late = writer.insertRefreshToken({
      hash: `late-${user.id}`,
      family: "f",
      expiresAt: new Date(Date.now() + 60_000),
      userId: user.id,
    });
    await writer.close();
    await expect(late).resolves.toBeUndefined();
    expect(countRows("RefreshToken", user.id)).toBe(1);
    expect(writer.worker).toBeUndefined();
    await expect(writer.findUser(user.id)).rejects.toThrow(/closed/);
  });

  it("keeps calls made before its thread is ready, and commits them even when closed at once", async () => {
    const userId = (await start().recordLogin({ address: Wallet.createRandom().address, method: "qr" })).id;
    const writer = start();
    const early = writer.insertRefreshToken({
      hash: `early-${userId}`,
      family: "f",
      expiresAt: new Date(Date.now() + 60_000),
      userId,
    });
    await writer.close();
    await expect(early).resolves.toBeUndefined();
    expect(countRows("RefreshToken", userId)).toBe(1);
  });

  it("runs the statements on the calling thread when its thread cannot start, losing no call", async () => {
    const failures: Error[] = [];
    const writer = start({
      writerEntry: new URL("./no-such-writer-entry.ts", import.meta.url).href,
      onWriterFailure: (error) => failures.push(error),
    });
    const address = Wallet.createRandom().address;
    // Asked before the thread failed: passed on to the fallback, since the thread never ran it.
    const user = await writer.recordLogin({ address, method: "qr" });
    expect(user.address).toBe(address);
    expect(failures).toHaveLength(1);
    expect(writer.kind).toBe("sqlite-statements");
    expect(await writer.findUser(user.id)).toEqual(user);
  });

  it("moves to the calling thread when its thread dies, and goes on writing", async () => {
    const failures: Error[] = [];
    const writer = start({ onWriterFailure: (error) => failures.push(error) });
    await writer.recordLogin({ address: Wallet.createRandom().address, method: "qr" });
    const died = new Promise((resolve) => writer.worker!.once("exit", resolve));
    // Killed from outside, as a crash would end it: the same exit the proxy watches for.
    void writer.worker!.terminate();
    await died;
    expect(failures).toHaveLength(1);
    expect(writer.kind).toBe("sqlite-statements");
    const address = Wallet.createRandom().address;
    expect((await writer.recordLogin({ address, method: "qr" })).address).toBe(address);
  });

  it("starts, with its checkpointer, in a process whose own preloads cannot load in a worker (node --import a .ts file)", async () => {
    const preload = path.join(dir, "preload.ts");
    const script = path.join(dir, "start-writer.mts");
    const writerModule = fileURLToPath(new URL("./sqlite-writer.ts", import.meta.url));
    const checkpointerModule = fileURLToPath(new URL("./checkpointer.ts", import.meta.url));
    await writeFile(preload, "export const preloaded: boolean = true;\n");
    await writeFile(
      script,
      `import { startSqliteWriter } from ${JSON.stringify(writerModule)};
import { startCheckpointer } from ${JSON.stringify(checkpointerModule)};
const writer = startSqliteWriter(${JSON.stringify(file)}, { onWriterFailure: (error) => console.log("failed:", error.message) });
await writer.findUser("nobody");
console.log(writer.kind);
await writer.close();
// The checkpointer's thread (on this thread's fallback) must start in such a process too.
const checkpointer = await startCheckpointer({ file: ${JSON.stringify(file)}, onFailure: (error) => console.log("failed:", error.message) });
await checkpointer.stop();
console.log("checkpointer started");
`,
    );
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "--import", preload, script], {
      cwd: fileURLToPath(new URL("../..", import.meta.url)),
    });
    expect(stdout.trim().split("\n")).toEqual(["sqlite-writer-thread", "checkpointer started"]);
  });
});
