/** Fan-out phases: subscribers on a server (a side), then single triggers, a burst, a steady rate. */
import { readCpuSeconds } from "../server-process";
import { countError, mergeErrors, sleep } from "../stats";
import { nowMs } from "../ws-client";
import { SeqTracker, awaitPhaseDone, collect, record, startHolder, type Holder, type Reply } from "./holders";
import type { ServerUnderTest, TriggerSender } from "./servers";
import { createTriggerSender } from "./servers";
import { round2, summarizeMs, within } from "./shared";
import type { ChannelsBenchOptions, FanoutMeasurement, SteadyRound } from "./types";

// ---------------------------------------------------------------- fan-out

/** One server under test with its subscribers, its trigger sender and its fan-out errors. */
export interface Side {
  server: ServerUnderTest;
  holders: Holder[];
  seqs: SeqTracker;
  sender: TriggerSender;
  subscribed: number;
  nextSeq: number;
  /** Connect/subscribe failures, failed triggers, wrong or missing deliveries, disconnects. */
  errors: Record<string, number>;
}

export async function openSide(server: ServerUnderTest, options: ChannelsBenchOptions): Promise<Side> {
  const seqs = new SeqTracker();
  const per = Math.ceil(options.subscribers / Math.min(options.holders, options.subscribers));
  const side: Side = {
    server,
    holders: [],
    seqs,
    sender: createTriggerSender(server, options.timeoutMs),
    subscribed: 0,
    nextSeq: 1,
    errors: {},
  };
  const starting: Array<Holder & { ready: Promise<Reply<"ready">> }> = [];
  for (let left = options.subscribers; left > 0; left -= per) {
    const holder = startHolder(
      {
        url: server.handle.url,
        count: Math.min(per, left),
        batch: options.connectBatch,
        channel: server.channel,
        credentials: server.credentials,
        timeoutMs: options.timeoutMs,
        maxLifetimeMs: 300_000,
      },
      (seq) => seqs.notice(seq),
    );
    starting.push(holder);
    side.holders.push(holder);
  }
  try {
    for (const holder of starting) {
      const ready = await holder.ready;
      holder.subscribed = ready.subscribed;
      side.subscribed += ready.subscribed;
      if (ready.subscribed > 0) seqs.holders++;
      mergeErrors(side.errors, ready.errors, "connect/subscribe: ");
    }
  } catch (err) {
    await closeSide(side);
    throw err;
  }
  countError(side.errors, "subscribers not subscribed", options.subscribers - side.subscribed);
  return side;
}

export async function closeSide(side: Side): Promise<void> {
  side.sender.close();
  for (const holder of side.holders) mergeErrors(side.errors, await holder.close(), "holder: ");
}

/** Sends one trigger and keeps its write time in `sentAt[index]` (-1 and an error when it failed). */
async function sendChecked(side: Side, seq: number, sentAt: number[], index: number): Promise<void> {
  const result = await side.sender.send(seq);
  if (result.status === 200) sentAt[index] = result.sentAt;
  else {
    sentAt[index] = -1;
    countError(side.errors, `trigger ${result.status === 0 ? (result.error ?? "failed") : `HTTP ${result.status}`}`);
  }
}

type SingleMeasurement = FanoutMeasurement["single"];

/**
 * Triggers one at a time, each after the previous one's last delivery, alternating between the
 * sides trigger by trigger (the first side alternates too), so both meet the same moments of the
 * machine's other load.
 */
export async function runSingle(sides: Side[], count: number, timeoutMs: number): Promise<SingleMeasurement[]> {
  const phases = await Promise.all(
    sides.map(async (side) => {
      const firstSeq = side.nextSeq;
      side.nextSeq += count;
      await record(side.holders, firstSeq, count, true, timeoutMs);
      return { side, firstSeq, sentAt: new Array<number>(count).fill(-1) };
    }),
  );
  for (let i = 0; i < count; i++) {
    const order = i % 2 === 0 ? phases : [...phases].reverse();
    for (const { side, firstSeq, sentAt } of order) {
      const seq = firstSeq + i;
      const complete = side.seqs.waitFor(seq);
      await sendChecked(side, seq, sentAt, i);
      // Missing deliveries are reported by the collect; the loop only stops waiting.
      if (sentAt[i]! >= 0) await within(timeoutMs, "", complete).catch(() => undefined);
    }
  }
  const results: SingleMeasurement[] = [];
  for (const { side, sentAt } of phases) {
    const collected = await collect(side.holders, sentAt, timeoutMs);
    mergeErrors(side.errors, collected.errors);
    const toLast: number[] = [];
    const rates: number[] = [];
    for (let i = 0; i < count; i++) {
      if (sentAt[i]! < 0 || collected.lastArrival[i] === 0) continue;
      const ms = collected.lastArrival[i]! - sentAt[i]!;
      toLast.push(ms);
      rates.push((side.subscribed * 1000) / ms);
    }
    results.push({
      triggers: toLast.length,
      toLastDelivery: summarizeMs(toLast),
      deliveriesPerSec: Math.round(summarizeMs(rates).p50),
    });
  }
  return results;
}

/** Triggers back to back over `connections` keep-alive connections. */
export async function runBurst(side: Side, options: ChannelsBenchOptions): Promise<FanoutMeasurement["burst"]> {
  const count = options.burstTriggers;
  const firstSeq = side.nextSeq;
  side.nextSeq += count;
  await record(side.holders, firstSeq, count, false, options.timeoutMs);
  const sentAt = new Array<number>(count).fill(-1);
  let cursor = 0;
  await Promise.all(
    Array.from({ length: options.burstConnections }, async () => {
      while (cursor < count) {
        const i = cursor++;
        await sendChecked(side, firstSeq + i, sentAt, i);
      }
    }),
  );
  await awaitPhaseDone(side.holders, options.timeoutMs);
  const collected = await collect(side.holders, sentAt, options.timeoutMs);
  mergeErrors(side.errors, collected.errors);
  const sent = sentAt.filter((at) => at >= 0);
  const elapsedMs = sent.length > 0 ? Math.max(...collected.lastArrival) - Math.min(...sent) : 0;
  const deliveries = collected.latencies.length;
  return {
    triggers: count,
    connections: options.burstConnections,
    elapsedMs: round2(elapsedMs),
    deliveries,
    deliveriesPerSec: elapsedMs > 0 ? Math.round((deliveries * 1000) / elapsedMs) : 0,
  };
}

/** Triggers on a fixed schedule (open loop); the warm-up's deliveries are checked, not measured. */
export async function runSteady(
  side: Side,
  rate: number,
  options: ChannelsBenchOptions,
  profilePath: string | undefined,
): Promise<SteadyRound> {
  const interval = 1000 / rate;
  const warmCount = Math.round((options.steadyWarmupMs / 1000) * rate);
  const count = warmCount + Math.round((options.steadyMs / 1000) * rate);
  const firstSeq = side.nextSeq;
  side.nextSeq += count;
  await record(side.holders, firstSeq, count, false, options.timeoutMs);
  const sentAt = new Array<number>(count).fill(-1);
  const pids = side.holders.map((h) => h.pid);
  const readCpu = async () => ({
    server: await side.server.handle.readCpuSeconds(),
    holders: (await Promise.all(pids.map((pid) => readCpuSeconds(pid).catch(() => 0)))).reduce((a, b) => a + b, 0),
    self: process.cpuUsage(),
    at: nowMs(),
  });
  if (profilePath) await side.server.handle.startProfile();
  const before = await readCpu();
  const sending: Array<Promise<void>> = [];
  const start = nowMs() + 5;
  for (let i = 0; i < count; i++) {
    const wait = start + i * interval - nowMs();
    if (wait >= 1) await sleep(wait);
    sending.push(sendChecked(side, firstSeq + i, sentAt, i));
  }
  await Promise.all(sending);
  await awaitPhaseDone(side.holders, options.timeoutMs);
  const after = await readCpu();
  if (profilePath) await side.server.handle.stopProfile(profilePath);
  const collected = await collect(side.holders, sentAt, options.timeoutMs, warmCount);
  mergeErrors(side.errors, collected.errors);

  const measured = sentAt.slice(warmCount).filter((at) => at >= 0);
  const wallSeconds = Math.max(0.001, (after.at - before.at) / 1000);
  const self = process.cpuUsage(before.self);
  return {
    rate,
    achievedRate:
      measured.length > 1
        ? round2(((measured.length - 1) * 1000) / (measured[measured.length - 1]! - measured[0]!))
        : 0,
    triggers: measured.length,
    latencies: collected.latencies,
    serverCpuCores: round2((after.server - before.server) / wallSeconds),
    generatorCpuCores: round2((after.holders - before.holders + (self.user + self.system) / 1e6) / wallSeconds),
  };
}
