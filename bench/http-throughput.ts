/**
 * Requests per second of one trivial GET, with autocannon from this process (keep-alive,
 * `connections` at once). A short unmeasured warm-up run goes first.
 */
import autocannon from "autocannon";

export interface ThroughputResult {
  url: string;
  connections: number;
  seconds: number;
  requestsPerSec: number;
  latencyP50Ms: number;
  latencyP99Ms: number;
  requests: number;
  errors: number;
  timeouts: number;
  non2xx: number;
}

export async function measureThroughput(
  url: string,
  opts: { connections: number; seconds: number; warmupSeconds: number },
): Promise<ThroughputResult> {
  if (opts.warmupSeconds > 0) await autocannon({ url, connections: 10, duration: opts.warmupSeconds, timeout: 10 });
  const result = await autocannon({ url, connections: opts.connections, duration: opts.seconds, timeout: 10 });
  return {
    url,
    connections: opts.connections,
    seconds: opts.seconds,
    requestsPerSec: Math.round(result.requests.average),
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors,
    timeouts: result.timeouts,
    non2xx: result.non2xx,
  };
}
