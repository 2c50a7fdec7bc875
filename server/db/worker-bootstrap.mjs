// Starts a TypeScript module in a worker thread. Node 20 does not apply the parent's
// `--import tsx` to worker threads, so tsx is registered here, then `workerData.entry` is loaded.
import { workerData } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
await import(workerData.entry);
