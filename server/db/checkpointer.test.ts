import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { startCheckpointer, type CheckpointResult } from "./checkpointer";

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

async function walDatabase() {
  const dir = await mkdtemp(path.join(tmpdir(), "wl-ckpt-"));
  dirs.push(dir);
  const file = path.join(dir, "app.db");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("wal_autocheckpoint = 0"); // as the hot connection does once the worker runs
  db.exec("CREATE TABLE t (n INTEGER NOT NULL, pad TEXT NOT NULL)");
  return { db, file };
}

describe("the WAL checkpointer", () => {
  it("copies committed WAL frames into the database file from its own thread", async () => {
    const { db, file } = await walDatabase();
    const insert = db.prepare("INSERT INTO t (n, pad) VALUES (?, ?)");
    db.transaction(() => {
      for (let n = 0; n < 2000; n++) insert.run(n, "x".repeat(200));
    })();
    const sizeBefore = (await stat(file)).size;
    const results: CheckpointResult[] = [];
    const checkpointer = await startCheckpointer({
      file,
      intervalMs: 20,
      onFailure: (error) => {
        throw error;
      },
      onCheckpoint: (result) => results.push(result),
    });
    await expect.poll(() => results.some((r) => r.log > 0 && r.checkpointed === r.log), { timeout: 5000 }).toBe(true);
    await checkpointer.stop();
    // The rows are now in the main file, which grew by their pages.
    expect((await stat(file)).size).toBeGreaterThan(sizeBefore + 2000 * 200);
    expect(db.prepare("SELECT count(*) AS c FROM t").get()).toEqual({ c: 2000 });
    db.close();
  });

  it("refuses to start when its worker cannot open the database", async () => {
    await expect(
      startCheckpointer({ file: path.join(tmpdir(), "no-such-dir-wl", "x.db"), onFailure: () => {} }),
    ).rejects.toThrow(/directory does not exist|unable to open/);
  });
});
