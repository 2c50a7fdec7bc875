/**
 * The generator side of a measured window (see runGeneratorProcess in ./server-process.ts):
 * after `warmupMs` it tells the parent `{type: "window", phase: "start"}` and, `durationMs` later,
 * `phase: "end"`, so the parent measures the server over exactly that window; meanwhile it
 * reads this process's own CPU at both ends, and its event-loop delay in between (a generator
 * whose own loop stalls adds that stall to every latency it measures).
 *
 * The delay is how late a timer due every LOOP_RESOLUTION_MS fired: Node's histogram records the
 * whole interval between firings, so the resolution is taken off (an idle process reads about
 * 0-3 ms at p99, not 10-13).
 */
import { monitorEventLoopDelay } from "node:perf_hooks";

const LOOP_RESOLUTION_MS = 1;

export interface LoadWindow {
  /** Clears the timers (call once the load has stopped). */
  stop(): void;
  /** CPU this process used inside the window, in cores; 0 when the window did not complete. */
  cpuCores(): number;
  /** How late this process's event loop ran a due timer, p99 inside the window (ms); 0 when the window did not complete. */
  loopDelayP99Ms(): number;
}

export function startLoadWindow(options: { warmupMs: number; durationMs: number }): LoadWindow {
  const cpuStart = process.cpuUsage();
  let atStart: NodeJS.CpuUsage | undefined;
  let atEnd: NodeJS.CpuUsage | undefined;
  const loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
  const startTimer = setTimeout(() => {
    atStart = process.cpuUsage(cpuStart);
    loopDelay.enable();
    process.send?.({ type: "window", phase: "start" });
  }, options.warmupMs);
  const endTimer = setTimeout(() => {
    atEnd = process.cpuUsage(cpuStart);
    loopDelay.disable();
    process.send?.({ type: "window", phase: "end" });
  }, options.warmupMs + options.durationMs);
  return {
    stop() {
      clearTimeout(startTimer);
      clearTimeout(endTimer);
      loopDelay.disable();
    },
    cpuCores() {
      if (!atStart || !atEnd) return 0;
      const micros = atEnd.user + atEnd.system - (atStart.user + atStart.system);
      return Math.round((micros / 1000 / options.durationMs) * 100) / 100;
    },
    loopDelayP99Ms() {
      if (!atEnd) return 0;
      const lateMs = loopDelay.percentile(99) / 1e6 - LOOP_RESOLUTION_MS;
      return Math.max(0, Math.round(lateMs * 10) / 10);
    },
  };
}
