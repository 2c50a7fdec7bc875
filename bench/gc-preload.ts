/**
 * Preloaded (`--import`) into the server children the benchmark starts, never into the app itself.
 * Over IPC it answers:
 * - `{type: "gc", id}`: a full collection (needs --expose-gc), then `{type: "gc:done", id, memory}`,
 *   so RSS is read after garbage is gone;
 * - `{type: "elu", id}`: the event loop's utilization so far (active and idle ms), so a busy loop on a
 *   CPU-starved machine (loop ~100% busy, process well under a core) can be told from an idle one;
 * - `{type: "profile:start", id}` / `{type: "profile:stop", id, path}`: a V8 CPU profile of just the
 *   measured window, written as a .cpuprofile (Chrome DevTools, speedscope, bench/profile-summary.ts).
 * It does not keep the process alive, and when the benchmark's process goes away it sends itself SIGTERM.
 */
import { writeFile } from "node:fs/promises";
import { Session } from "node:inspector";
import { performance } from "node:perf_hooks";

interface Request {
  type: "gc" | "elu" | "profile:start" | "profile:stop";
  id: number;
  path?: string;
}

const isRequest = (msg: unknown): msg is Request =>
  typeof msg === "object" && msg !== null && typeof (msg as { id?: unknown }).id === "number";

let session: Session | undefined;

function post<T>(method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    if (!session) return reject(new Error("no inspector session"));
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

async function handle(msg: Request): Promise<Record<string, unknown>> {
  switch (msg.type) {
    case "gc": {
      const gc = (globalThis as { gc?: () => void }).gc;
      // Twice: the first pass can leave weakly held objects and finalizers for the second.
      gc?.();
      gc?.();
      return { hasGc: gc !== undefined, memory: process.memoryUsage() };
    }
    case "elu":
      return { elu: performance.eventLoopUtilization() };
    case "profile:start":
      session = new Session();
      session.connect();
      await post("Profiler.enable");
      await post("Profiler.setSamplingInterval", { interval: 200 });
      await post("Profiler.start");
      return {};
    case "profile:stop": {
      const { profile } = await post<{ profile: unknown }>("Profiler.stop");
      session?.disconnect();
      session = undefined;
      if (msg.path) await writeFile(msg.path, JSON.stringify(profile));
      return {};
    }
  }
}

if (process.send) {
  process.on("message", (msg: unknown) => {
    if (!isRequest(msg)) return;
    handle(msg).then(
      (reply) => process.send?.({ type: `${msg.type}:done`, id: msg.id, ...reply }),
      (err: unknown) => process.send?.({ type: `${msg.type}:done`, id: msg.id, error: String(err) }),
    );
  });
  // The benchmark went away without stopping us: shut down the way SIGTERM does.
  process.on("disconnect", () => process.kill(process.pid, "SIGTERM"));
  // Adding the listeners refs the channel; the process lives by its server, not by this.
  process.channel?.unref();
}
