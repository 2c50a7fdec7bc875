/** The channels benchmark's options and results (the JSON's `results.channels`). */
import type { ThroughputResult } from "../http-throughput";

export interface ChannelsBenchOptions {
  subscribers: number;
  holders: number;
  /** Sockets each holder connects at once. */
  connectBatch: number;
  warmupTriggers: number;
  singleTriggers: number;
  burstTriggers: number;
  burstConnections: number;
  /**
   * The open-loop phases' loads, as shares of the bare server's burst capacity measured in the
   * same run (deliveries/s / subscribers = triggers/s), so a load means the same on any machine.
   */
  loadShares: number[];
  /** Each server runs each load this many times, the order alternating (ABBA), pooled. */
  steadyRounds: number;
  steadyWarmupMs: number;
  steadyMs: number;
  presenceUsers: number;
  http: { connections: number; seconds: number; warmupSeconds: number };
  /** Any single wait (a connect, an ack, a phase's last delivery) gives up after this. */
  timeoutMs: number;
  /**
   * Write V8 CPU profiles of the servers here: ours over the channel-auth run
   * (`server-channel-auth.cpuprofile`), each server over its first round at the highest load share
   * (`server-fanout-<ours|bare>.cpuprofile`) and over the presence joins and leaves
   * (`server-presence-<ours|bare>.cpuprofile`; the member count read between them included).
   */
  cpuProfileDir?: string;
  /** Progress lines (a phase starts); left out of the results JSON. */
  log?: (line: string) => void;
}

export const DEFAULT_CHANNELS_BENCH: ChannelsBenchOptions = {
  subscribers: 1000,
  holders: 4,
  connectBatch: 50,
  warmupTriggers: 20,
  singleTriggers: 30,
  burstTriggers: 200,
  burstConnections: 4,
  loadShares: [0.25, 0.5],
  steadyRounds: 2,
  steadyWarmupMs: 1000,
  steadyMs: 5000,
  presenceUsers: 500,
  http: { connections: 50, seconds: 5, warmupSeconds: 1 },
  timeoutMs: 10_000,
};

export interface LatencySummary {
  count: number;
  p50: number;
  p99: number;
  max: number;
}

/** One open-loop run of one server at one rate. */
export interface SteadyRound {
  rate: number;
  /** Triggers written per second over the measured part, as the timers managed. */
  achievedRate: number;
  triggers: number;
  /** Per delivery: arrival - trigger written, ms (measured part only). */
  latencies: number[];
  /** CPU over the whole phase, in cores: the server, and the holders plus this process. */
  serverCpuCores: number;
  generatorCpuCores: number;
}

/** One server at one load: its rounds pooled. */
export interface SteadyMeasurement {
  /** The load as a share of the bare server's burst capacity in this run. */
  share: number;
  rate: number;
  rounds: number;
  /** Mean over the rounds. */
  achievedRate: number;
  /** Summed over the rounds. */
  triggers: number;
  /** Per delivery, every round's deliveries pooled. */
  latency: LatencySummary;
  /** Each round's own p99, in the order they ran. */
  roundP99s: number[];
  /** Means over the rounds, in cores. */
  serverCpuCores: number;
  generatorCpuCores: number;
}

export interface FanoutMeasurement {
  subscribers: number;
  subscribed: number;
  single: {
    triggers: number;
    /** Trigger written -> its last delivery, ms, one value per trigger. */
    toLastDelivery: LatencySummary;
    /** Median over the triggers of subscribers / (trigger written -> last delivery). */
    deliveriesPerSec: number;
  };
  burst: { triggers: number; connections: number; elapsedMs: number; deliveries: number; deliveriesPerSec: number };
  /** One per load share, in the order of `loadShares`. */
  loads: SteadyMeasurement[];
  errors: Record<string, number>;
}

export interface PresenceMeasurement {
  users: number;
  joinMs: number;
  leaveMs: number;
  added: number;
  removed: number;
  eventsPerSec: number;
  /** Presence notices the holders' sockets (the other members) received, joins and leaves. */
  memberNotices: number;
  countAfterJoins: number;
  countAtEnd: number;
  errors: Record<string, number>;
}

export interface ServerChannelsMeasurement {
  server: string;
  fanout: FanoutMeasurement;
  presence: PresenceMeasurement;
  /** Connect and subscribe failures, unexpected disconnects, and every fan-out and presence error. */
  errorCount: number;
}

export interface ChannelAuthMeasurement {
  channelAuth: ThroughputResult;
  apiHealth: ThroughputResult;
  /** The server's CPU over each autocannon run (warm-up excluded), in cores. */
  channelAuthServerCpuCores: number;
  apiHealthServerCpuCores: number;
  /** The login, the checked answer, autocannon's errors and non-2xx. */
  errors: Record<string, number>;
}

export interface ChannelsBenchResult {
  options: ChannelsBenchOptions;
  ours: ServerChannelsMeasurement;
  bare: ServerChannelsMeasurement;
  auth: ChannelAuthMeasurement;
  /** CPU profiles written (cpuProfileDir), by what they cover. */
  cpuProfiles: Record<string, string>;
}
