/**
 * The writer thread (see ./sqlite-writer.ts): owns the SQLite statements' connection, runs each
 * message of calls as one group commit and answers with one message of results after the COMMIT.
 */
import { parentPort, workerData } from "node:worker_threads";
import { openSqliteStatements } from "./sqlite-statements";
import {
  runWriterCall,
  toWriterError,
  type WriterCall,
  type WriterData,
  type WriterReply,
  type WriterRequest,
  type WriterResult,
} from "./sqlite-writer";

const port = parentPort;
if (!port) throw new Error("sqlite-writer-worker runs only as a worker thread");
const data = workerData as WriterData;
const reply = (message: WriterReply) => port.postMessage(message);

const statements = openSqliteStatements(data.file, {
  checkpointer: data.checkpointer,
  onCheckpointerFailure: (error) => reply({ type: "checkpointer-failure", error: toWriterError(error) }),
});
const inFlight = new Set<Promise<void>>();

function answer(calls: WriterCall[]) {
  // The calls of one message reach the group commit in the same turn: one transaction.
  const batch = Promise.allSettled(calls.map((call) => runWriterCall(statements, call))).then((outcomes) => {
    const results = outcomes.map((outcome, i): WriterResult => {
      const id = calls[i]!.id;
      return outcome.status === "fulfilled"
        ? { id, ok: true, value: outcome.value }
        : { id, ok: false, error: toWriterError(outcome.reason) };
    });
    reply({ type: "results", results });
  });
  inFlight.add(batch);
  void batch.finally(() => inFlight.delete(batch));
}

port.on("message", (request: WriterRequest) => {
  if (request.type === "calls") answer(request.calls);
  else if (request.type === "close") {
    void (async () => {
      await statements.close();
      await Promise.all(inFlight);
      reply({ type: "closed" });
      port.close();
    })();
  }
});
reply({ type: "ready" });
