/**
 * WAL checkpoints for the SQLite hot-path connection, off the main thread.
 *
 * Why: with SQLite's automatic checkpoint, the COMMIT that crosses 1,000 WAL pages copies them
 * into the database file and fsyncs it, synchronously, on the thread that committed: the event
 * loop stops for that long. Moving the checkpoints away nearly doubles the login writes a
 * second (measured: bench/README.md, "Figures behind choices in the source").
 *
 * Rules:
 * - The hot connection turns its automatic checkpoint off only once this worker is running; a
 *   worker thread with its own connection runs `PRAGMA wal_checkpoint(PASSIVE)` every
 *   `intervalMs`. PASSIVE never waits for readers or writers, so it cannot block the server.
 * - If the worker fails or exits early, `onFailure` runs (the caller turns the automatic
 *   checkpoint back on), so the WAL never grows without bound.
 * - stop() ends the worker; SQLite checkpoints the rest when the last connection closes.
 */
import { createRequire } from "node:module";
import { Worker } from "node:worker_threads";

export interface CheckpointResult {
  /** Frames in the WAL, and how many of them are now in the database file. */
  log: number;
  checkpointed: number;
}

export interface Checkpointer {
  stop(): Promise<void>;
}

export interface CheckpointerOptions {
  file: string;
  intervalMs?: number;
  onFailure: (error: Error) => void;
  /** Called after each checkpoint (tests). */
  onCheckpoint?: (result: CheckpointResult) => void;
}

export const CHECKPOINT_INTERVAL_MS = 500;

// CommonJS, evaluated in the worker: no TypeScript loader is needed there.
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const Database = require(workerData.betterSqlite3);
const db = new Database(workerData.file, { timeout: 0 });
const run = () => {
  const [row] = db.pragma("wal_checkpoint(PASSIVE)");
  parentPort.postMessage({ type: "checkpoint", log: row.log, checkpointed: row.checkpointed });
};
const timer = setInterval(run, workerData.intervalMs);
parentPort.on("message", (message) => {
  if (message === "stop") {
    clearInterval(timer);
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ type: "ready" });
`;

/** Starts the worker; resolves once its connection is open. */
export function startCheckpointer(options: CheckpointerOptions): Promise<Checkpointer> {
  const betterSqlite3 = createRequire(import.meta.url).resolve("better-sqlite3");
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { file: options.file, intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS, betterSqlite3 },
  });
  let isStopping = false;
  return new Promise((resolve, reject) => {
    let isReady = false;
    const fail = (error: Error) => {
      if (!isReady) reject(error);
      else if (!isStopping) options.onFailure(error);
    };
    worker.on("message", (message: { type: string } & Partial<CheckpointResult>) => {
      if (message.type === "ready") {
        isReady = true;
        resolve({
          stop() {
            isStopping = true;
            return new Promise<void>((done) => {
              worker.once("exit", () => done());
              worker.postMessage("stop");
            });
          },
        });
      } else if (message.type === "checkpoint") {
        options.onCheckpoint?.({ log: message.log ?? 0, checkpointed: message.checkpointed ?? 0 });
      }
    });
    worker.on("error", fail);
    worker.on("exit", (code) => {
      if (!isStopping) fail(new Error(`WAL checkpointer exited (${code})`));
    });
  });
}
