/**
 * The SQLite statements (./sqlite-statements.ts) on a writer thread, behind the same interface.
 *
 * Why: at login load the event loop is the bottleneck (it parses every request and socket frame
 * and writes every answer), and SQLite's work there (statements, savepoints, commits, WAL writes)
 * was about 10% of it. Here the event loop only posts the calls made in one turn as one message
 * and reads one message of results per batch, far less event-loop time per call. The thread costs
 * RSS once (its own V8 isolate; from source also tsx, to load this TypeScript), and a login waits
 * for two hops between threads, which at half load made the login slower (p50 and p99): so it is
 * off unless SQLITE_WRITER_THREAD=true. What it gains and costs, as measured: bench/README.md,
 * "Figures behind choices in the source".
 *
 * Rules:
 * - Calls made in one event-loop turn go to the writer as one message; the writer runs each message
 *   as one group commit and answers it with one message, after the COMMIT.
 * - Nothing is sent before the writer says it is ready (a few hundred ms after start): calls wait
 *   here until then, so a writer that fails to start cannot have run any of them.
 * - A result means what it meant on the calling thread: a call resolves after its COMMIT, or is
 *   refused with the statement's error (message, name and SQLite `code` kept).
 * - If the writer thread cannot start, or dies, the statements move to the calling thread
 *   (`onWriterFailure` is told, and `kind` says so). Calls it had not answered are refused if it
 *   may have run them (it had started), and passed on to the fallback if it cannot have (it had
 *   not: nothing was sent to it).
 * - close() lets the writer commit what it holds, then ends it.
 */
import { Worker } from "node:worker_threads";
import type { User } from "./users";
import {
  openSqliteStatements,
  type PlainLoginInput,
  type RefreshTokenRow,
  type SqliteStatements,
  type SqliteStatementsOptions,
} from "./sqlite-statements";

export interface SqliteWriterOptions {
  /** Told when the writer thread fails to start or dies; the statements then run on this thread. */
  onWriterFailure?: (error: Error) => void;
  /** The module the writer thread runs (tests: one that cannot load). */
  writerEntry?: string;
}

export interface SqliteWriter extends Omit<SqliteStatements, "kind"> {
  kind: "sqlite-writer-thread" | "sqlite-statements";
  /** The writer thread while it runs (tests). */
  readonly worker: Worker | undefined;
}

/** What the calling thread sends. */
export type WriterCall =
  | { id: number; op: "recordLogin"; input: PlainLoginInput }
  | { id: number; op: "findUser"; userId: string }
  | { id: number; op: "insertRefreshToken"; row: RefreshTokenRow };

export type WriterRequest = { type: "calls"; calls: WriterCall[] } | { type: "close" };

export interface WriterError {
  name: string;
  message: string;
  code?: string;
}

export type WriterResult =
  { id: number; ok: true; value: User | null | undefined } | { id: number; ok: false; error: WriterError };

/** What the writer sends back. */
export type WriterReply =
  | { type: "ready" }
  | { type: "results"; results: WriterResult[] }
  | { type: "checkpointer-failure"; error: WriterError }
  | { type: "closed" };

export interface WriterData {
  entry: string;
  file: string;
  checkpointer: SqliteStatementsOptions["checkpointer"];
}

// Compiled (scripts/build-server.mjs puts every module in dist/server/), the thread runs the
// writer's JavaScript beside this one directly. From source, a bootstrap registers tsx in the
// thread first, then imports the TypeScript entry.
const isCompiled = import.meta.url.endsWith(".js");
const BOOTSTRAP = new URL("./worker-bootstrap.mjs", import.meta.url);
const ENTRY = new URL(isCompiled ? "./sqlite-writer-worker.js" : "./sqlite-writer-worker.ts", import.meta.url).href;

interface Pending {
  call: WriterCall;
  resolve: (value: never) => void;
  reject: (error: Error) => void;
}

export function startSqliteWriter(
  file: string,
  options: SqliteStatementsOptions & SqliteWriterOptions = {},
): SqliteWriter {
  const { checkpointer, onCheckpointerFailure, onWriterFailure, writerEntry = ENTRY } = options;
  let worker: Worker | undefined;
  let fallback: SqliteStatements | undefined;
  let hasStarted = false;
  let isClosing = false;
  let nextId = 0;
  const pending = new Map<number, Pending>();
  let outbox: WriterCall[] = [];
  let sendScheduled: NodeJS.Immediate | undefined;
  let closed: Promise<void> | undefined;
  let resolveClosed: (() => void) | undefined;
  let markSettled: () => void = () => {};
  /** Resolves once the writer is ready, or has failed (whatever it failed over to). */
  const startSettled = new Promise<void>((resolve) => (markSettled = resolve));

  // Functions cannot cross to the thread: of the checkpointer's options only the interval goes.
  const data: WriterData = {
    entry: writerEntry,
    file,
    checkpointer: checkpointer && { intervalMs: checkpointer.intervalMs },
  };
  // execArgv: []: the process's own preloads (--import ...) are not for this thread.
  worker = new Worker(isCompiled ? new URL(writerEntry) : BOOTSTRAP, { workerData: data, execArgv: [] });
  worker.on("message", (reply: WriterReply) => {
    if (reply.type === "ready") {
      hasStarted = true;
      markSettled();
      if (outbox.length > 0) sendScheduled ??= setImmediate(send);
    } else if (reply.type === "results") settle(reply.results);
    else if (reply.type === "checkpointer-failure") onCheckpointerFailure?.(toError(reply.error));
    else if (reply.type === "closed") resolveClosed?.();
  });
  worker.on("error", (error) => failOver(error));
  worker.on("exit", (exitCode) => {
    if (!isClosing) failOver(new Error(`the SQLite writer thread exited (code ${exitCode})`));
    worker = undefined;
    markSettled();
    resolveClosed?.();
  });

  function settle(results: WriterResult[]) {
    for (const result of results) {
      const entry = pending.get(result.id);
      if (!entry) continue;
      pending.delete(result.id);
      if (result.ok) entry.resolve(result.value as never);
      else entry.reject(toError(result.error));
    }
  }

  /** Moves the statements to this thread; see the header for what happens to unanswered calls. */
  function failOver(error: Error) {
    if (fallback || isClosing) return;
    const current = worker;
    worker = undefined;
    void current?.terminate();
    if (sendScheduled) clearImmediate(sendScheduled);
    sendScheduled = undefined;
    fallback = openSqliteStatements(file, { checkpointer, onCheckpointerFailure });
    markSettled();
    onWriterFailure?.(error);
    const unanswered = [...pending.values()];
    pending.clear();
    outbox = [];
    for (const entry of unanswered) {
      if (hasStarted)
        entry.reject(new Error(`the SQLite writer thread failed; this write's outcome is unknown: ${error.message}`));
      else runOnFallback(entry);
    }
  }

  function runOnFallback({ call, resolve, reject }: Pending) {
    runWriterCall(fallback!, call).then(resolve as (value: unknown) => void, reject);
  }

  function send() {
    sendScheduled = undefined;
    if (!hasStarted || outbox.length === 0) return;
    const calls = outbox;
    outbox = [];
    worker?.postMessage({ type: "calls", calls } satisfies WriterRequest);
  }

  function call<T>(make: (id: number) => WriterCall): Promise<T> {
    if (isClosing) return Promise.reject(new Error("login writes are closed"));
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = { call: make(nextId++), resolve: resolve as (value: never) => void, reject };
      if (fallback) return runOnFallback(entry);
      pending.set(entry.call.id, entry);
      outbox.push(entry.call);
      sendScheduled ??= setImmediate(send);
    });
  }

  return {
    get kind() {
      return fallback ? "sqlite-statements" : "sqlite-writer-thread";
    },
    get worker() {
      return worker;
    },
    recordLogin: (input) =>
      call((id) => ({
        id,
        op: "recordLogin",
        input: { address: input.address, ip: input.ip, userAgent: input.userAgent, method: input.method },
      })),
    findUser: (userId) => call((id) => ({ id, op: "findUser", userId })),
    insertRefreshToken: (row) =>
      call((id) => ({
        id,
        op: "insertRefreshToken",
        row: { hash: row.hash, family: row.family, expiresAt: row.expiresAt, userId: row.userId },
      })),
    close() {
      if (closed) return closed;
      isClosing = true;
      closed = (async () => {
        await startSettled;
        if (sendScheduled) clearImmediate(sendScheduled);
        send();
        const running = worker;
        if (running) {
          const done = new Promise<void>((resolve) => (resolveClosed = resolve));
          running.postMessage({ type: "close" } satisfies WriterRequest);
          await done;
          await running.terminate();
        }
        for (const entry of pending.values()) entry.reject(new Error("login writes are closed"));
        pending.clear();
        await fallback?.close();
      })();
      return closed;
    },
  };
}

/** One call on the statements: in the writer thread, and here on its fallback. */
export async function runWriterCall(statements: SqliteStatements, call: WriterCall): Promise<User | null | undefined> {
  switch (call.op) {
    case "recordLogin":
      return statements.recordLogin(call.input);
    case "findUser":
      return statements.findUser(call.userId);
    case "insertRefreshToken":
      await statements.insertRefreshToken(call.row);
      return undefined;
  }
}

export function toWriterError(error: unknown): WriterError {
  if (!(error instanceof Error)) return { name: "Error", message: String(error) };
  const code = (error as { code?: unknown }).code;
  return { name: error.name, message: error.message, ...(typeof code === "string" ? { code } : {}) };
}

function toError(wire: WriterError): Error {
  const error = new Error(wire.message);
  error.name = wire.name;
  if (wire.code !== undefined) (error as Error & { code?: string }).code = wire.code;
  return error;
}
