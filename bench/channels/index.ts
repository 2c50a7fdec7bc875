/**
 * Channels (docs/protocol.md section 2): fan-out of REST triggers, channel auth and presence churn, each
 * figure beside a peer measured the same way in the same run.
 *
 * Two servers run at once, each a child process: ours (API_ONLY, memory stores, app credentials
 * made up for the run) and the bare Socket.IO peer (bench/bare-socket-server.ts with
 * BARE_CHANNELS=1: rooms, a trivial `POST /trigger` handler doing `io.to(room).emit`, a member map
 * for presence; no auth, no checks, no store). Every phase runs on one and then on the other (the
 * order alternates from phase to phase), so a change in the machine's other load hits both alike.
 *
 * 1. Fan-out: `subscribers` sockets per server (default 1,000), spread over `holders` child
 *    processes (bench/channels/holder-process.ts, with the minimal client bench/ws-client.ts), subscribe to
 *    one channel (`private-bench-fanout` on ours, signed with the app secret as lib/sdk's
 *    `authenticate` signs). A trigger is `POST /apps/{appId}/events` signed exactly as lib/sdk's
 *    RealtimeServer signs it (signRequestParams, same body and encoding; only the HTTP client is
 *    ours, a keep-alive node:http Agent), or `POST /trigger` with the same body on the peer;
 *    `data` is the trigger's sequence number. Every subscriber must get every trigger exactly
 *    once, on the right channel with the right name: anything missing, duplicated or wrong is an
 *    error. Phases:
 *    - warm-up: `warmupTriggers` one at a time (checked, not reported);
 *    - single: `singleTriggers` one at a time, each after the previous one's last delivery,
 *      alternating between the two servers trigger by trigger: trigger written -> last
 *      delivery, and deliveries/s = subscribers / that time (median);
 *    - burst: `burstTriggers` back to back over `burstConnections` keep-alive connections (each
 *      sends its next trigger when the previous one answered): deliveries / (last delivery -
 *      first trigger sent), the sustained fan-out rate;
 *    - steady: for each of `loadShares` (25% and 50%) of the bare server's burst capacity just
 *      measured (its burst deliveries/s / its subscribers = triggers/s; the same rate for both
 *      servers), triggers open loop (sent on schedule, whatever the answers), `steadyWarmupMs`
 *      then `steadyMs` measured: per delivery, arrival - the time its trigger request was
 *      written (p50, p99). Each server runs each load `steadyRounds` times, the order
 *      alternating (bare, ours, ours, bare), and its rounds' deliveries are pooled, so a spell of
 *      the machine's other load falls on both alike.
 *    Times are nowMs() (CLOCK_MONOTONIC, one clock for every process on the machine), stamped by
 *    this process just before the request is written and by a holder when it reads the chunk.
 * 2. Presence churn: `presenceUsers` sockets of the same holders join one presence channel as
 *    distinct users (`bench-user-<n>`, signed channel_data), all at once, then leave it
 *    (`channel:unsubscribe`). An observer socket in this process, itself a member from the start,
 *    must see exactly one member_added (with the right user_info) and one member_removed per
 *    user, and the member count (REST `GET /apps/{id}/channels/{c}?info=user_count` through
 *    lib/sdk; `GET /presence-count` on the peer) must be users + 1 after the joins and 1 at the
 *    end. events/s = 2 x users / (join time + leave time), each from the first subscribe sent to
 *    the observer's last notice. Every join and leave is also announced to every member already
 *    there (about users^2 / 2 notices each way), which is most of the work; the holders count them.
 * 3. Channel auth (ours only, before any socket connects): `POST /api/channel-auth` for a presence
 *    channel with a Bearer access token from a real QR login (lib/client + lib/wallet), requests/s
 *    with autocannon, beside `GET /api/health` on the same server with the same settings.
 *
 * In `npm run bench` (section `channels`): --subscribers=1000 --holders=4 --load-shares=0.25,0.5
 *   --steady-rounds=2 --presence-users=500.
 */
import path from "node:path";
import { sumErrors } from "../stats";
import { measureChannelAuth } from "./auth";
import { closeSide, openSide, runBurst, runSingle, runSteady, type Side } from "./fanout";
import { measurePresence } from "./presence";
import { round2, summarizeMs } from "./shared";
import { makeCredentials, startBare, startOurs, type ServerUnderTest } from "./servers";
import {
  DEFAULT_CHANNELS_BENCH,
  type ChannelsBenchOptions,
  type ChannelsBenchResult,
  type FanoutMeasurement,
  type ServerChannelsMeasurement,
  type SteadyMeasurement,
  type SteadyRound,
} from "./types";

export * from "./types";

// ---------------------------------------------------------------- the benchmark

export async function benchChannels(given: Partial<ChannelsBenchOptions> = {}): Promise<ChannelsBenchResult> {
  const { log = () => {}, ...options } = { ...DEFAULT_CHANNELS_BENCH, ...given };
  const cpuProfiles: Record<string, string> = {};
  const servers: ServerUnderTest[] = [];
  const sides: Side[] = [];
  try {
    const ours = await startOurs(makeCredentials(), options.presenceUsers);
    servers.push(ours);
    const bare = await startBare();
    servers.push(bare);

    // Alone on the machine, before any socket: autocannon needs the cores.
    log("channels: a QR login, then POST /api/channel-auth and GET /api/health (autocannon)...");
    const auth = await measureChannelAuth(ours, options, cpuProfiles);

    log(`channels: ${options.subscribers} subscribers on each server, then the fan-out phases...`);
    const oursSide = await openSide(ours, options);
    sides.push(oursSide);
    const bareSide = await openSide(bare, options);
    sides.push(bareSide);
    let phase = 0;
    /** One phase on both servers, the order alternating from phase to phase. */
    const onBoth = async <T>(name: string, run: (side: Side) => Promise<T>): Promise<{ ours: T; bare: T }> => {
      log(`channels: ${name}`);
      const first = phase++ % 2 === 0 ? bareSide : oursSide;
      const firstResult = await run(first);
      const secondResult = await run(first === bareSide ? oursSide : bareSide);
      return first === bareSide ? { bare: firstResult, ours: secondResult } : { ours: firstResult, bare: secondResult };
    };
    const profileOf = (side: Side, name: string, what: string) => {
      if (!options.cpuProfileDir) return undefined;
      const file = path.join(options.cpuProfileDir, `server-${name}-${side.server.kind}.cpuprofile`);
      cpuProfiles[`${side.server.kind} server, ${what}`] = file;
      return file;
    };

    log("channels: warm-up, then single triggers (alternating between the servers)");
    await runSingle([bareSide, oursSide], options.warmupTriggers, options.timeoutMs);
    const [bareSingle, oursSingle] = await runSingle([bareSide, oursSide], options.singleTriggers, options.timeoutMs);
    const single = { bare: bareSingle!, ours: oursSingle! };
    const burst = await onBoth("burst", (side) => runBurst(side, options));
    // The loads: shares of the bare server's burst capacity just measured, in triggers/s.
    const bareCapacity = burst.bare.deliveriesPerSec / Math.max(1, bareSide.subscribed);
    const loads: Array<{ ours: SteadyMeasurement; bare: SteadyMeasurement }> = [];
    const highest = Math.max(...options.loadShares);
    for (const share of options.loadShares) {
      const rate = Math.max(1, Math.round(share * bareCapacity * 10) / 10);
      const rounds: { ours: SteadyRound[]; bare: SteadyRound[] } = { ours: [], bare: [] };
      for (let round = 0; round < options.steadyRounds; round++) {
        const label = `${Math.round(share * 100)}% of bare capacity`;
        const result = await onBoth(`steady ${rate} triggers/s (${label}), round ${round + 1}`, (side) =>
          runSteady(
            side,
            rate,
            options,
            round === 0 && share === highest ? profileOf(side, "fanout", `steady at ${label}`) : undefined,
          ),
        );
        rounds.ours.push(result.ours);
        rounds.bare.push(result.bare);
      }
      loads.push({ ours: poolRounds(share, rounds.ours), bare: poolRounds(share, rounds.bare) });
    }
    const presence = await onBoth(`presence churn, ${options.presenceUsers} users`, (side) =>
      measurePresence(side, options, profileOf(side, "presence", "presence churn")),
    );
    for (const side of sides.splice(0)) await closeSide(side);

    const measurement = (side: Side, kind: "ours" | "bare"): ServerChannelsMeasurement => {
      const fanout: FanoutMeasurement = {
        subscribers: options.subscribers,
        subscribed: side.subscribed,
        single: single[kind],
        burst: burst[kind],
        loads: loads.map((load) => load[kind]),
        errors: side.errors,
      };
      return {
        server: side.server.handle.name,
        fanout,
        presence: presence[kind],
        errorCount: sumErrors(side.errors) + sumErrors(presence[kind].errors),
      };
    };
    return {
      options,
      ours: measurement(oursSide, "ours"),
      bare: measurement(bareSide, "bare"),
      auth,
      cpuProfiles,
    };
  } catch (err) {
    const outputs = servers.map((server) => `--- ${server.handle.name} output ---\n${server.handle.output()}`);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n${outputs.join("\n")}`, { cause: err });
  } finally {
    for (const side of sides) await closeSide(side);
    for (const server of servers) await server.handle.stop();
  }
}

/** One server's rounds at one load as one measurement: the deliveries pooled, the rest averaged. */
function poolRounds(share: number, rounds: SteadyRound[]): SteadyMeasurement {
  const mean = (of: (round: SteadyRound) => number) =>
    round2(rounds.reduce((sum, round) => sum + of(round), 0) / Math.max(1, rounds.length));
  return {
    share,
    rate: rounds[0]?.rate ?? 0,
    rounds: rounds.length,
    achievedRate: mean((round) => round.achievedRate),
    triggers: rounds.reduce((sum, round) => sum + round.triggers, 0),
    latency: summarizeMs(rounds.flatMap((round) => round.latencies)),
    roundP99s: rounds.map((round) => round2(summarizeMs(round.latencies).p99)),
    serverCpuCores: mean((round) => round.serverCpuCores),
    generatorCpuCores: mean((round) => round.generatorCpuCores),
  };
}
