/**
 * Requests per second of one request (a trivial GET unless `method`, `headers`, `body` say
 * otherwise), with autocannon from this process (keep-alive, `connections` at once). A short
 * unmeasured warm-up run of the same request goes first.
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
  opts: {
    connections: number;
    seconds: number;
    warmupSeconds: number;
    method?: "GET" | "POST";
    headers?: Record<string, string>;
    body?: string;
  },
): Promise<ThroughputResult> {
  // autocannon reads a key that is present but undefined as a value (and fails on it).
  const request = {
    ...(opts.method ? { method: opts.method } : {}),
    ...(opts.headers ? { headers: opts.headers } : {}),
    ...(opts.body !== undefined ? { body: opts.body } : {}),
  };
  if (opts.warmupSeconds > 0) {
    await autocannon({ url, ...request, connections: 10, duration: opts.warmupSeconds, timeout: 10 });
  }
  const result = await autocannon({
    url,
    ...request,
    connections: opts.connections,
    duration: opts.seconds,
    timeout: 10,
  });
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
