import { benchChannels, type ChannelsBenchOptions, type ChannelsBenchResult } from "../channels/index";
import { sumErrors } from "../stats";
import { summarizeProfile, type ProfileSummary } from "../profile-summary";
import { fmt, positiveFlag, ratio, type SectionContext, type SectionReport } from "../section";
import type { Row } from "../table";
import { TARGETS } from "../targets";

export const name = "channels";

/**
 * Section flags: --subscribers=1000 --holders=4 --steady-rounds=2 --presence-users=500, and
 * --load-shares=0.25,0.5 (shares of the bare server's burst capacity, each in (0, 1]).
 */
const FLAGS = [
  ["subscribers", "subscribers"],
  ["holders", "holders"],
  ["steady-rounds", "steadyRounds"],
  ["presence-users", "presenceUsers"],
] as const;

function readLoadShares(context: SectionContext): number[] | undefined {
  const given = context.flag("load-shares");
  if (given === undefined) return undefined;
  const shares = given.split(",").map(Number);
  if (shares.length === 0 || shares.some((share) => !Number.isFinite(share) || share <= 0 || share > 1)) {
    throw new Error(`--load-shares: shares of capacity in (0, 1], comma-separated (got ${given})`);
  }
  return shares;
}

export async function run(context: SectionContext): Promise<SectionReport> {
  const { log, isProfiling, resultsDir } = context;
  const given: Partial<ChannelsBenchOptions> = { log, ...(isProfiling ? { cpuProfileDir: resultsDir } : {}) };
  for (const [flag, key] of FLAGS) {
    const value = positiveFlag(context, flag, 0);
    if (value > 0) given[key] = Math.round(value);
  }
  const loadShares = readLoadShares(context);
  if (loadShares) given.loadShares = loadShares;
  log("channels: fan-out, channel auth and presence churn, ours beside a bare Socket.IO server...");
  const channels = await benchChannels(given);
  const channelsProfiles: Record<string, ProfileSummary> = {};
  for (const [what, file] of Object.entries(channels.cpuProfiles)) {
    channelsProfiles[what] = await summarizeProfile(file, 25);
  }
  const hasProfiles = Object.keys(channelsProfiles).length > 0;
  return {
    rows: toRows(channels),
    results: { channels, ...(hasProfiles ? { channelsProfiles } : {}) },
    notes: toNotes(channels),
    profiles: Object.entries(channelsProfiles).map(([what, summary]) => ({
      title: `server profile, channels, ${what}`,
      summary,
    })),
  };
}

function toRows(result: ChannelsBenchResult): Row[] {
  const { ours, bare, options, auth } = result;
  const o = ours.fanout;
  const b = bare.fanout;
  const fanoutRatio = ratio(o.single.deliveriesPerSec, b.single.deliveriesPerSec);
  const authErrors = sumErrors(auth.errors);
  const perCpu = (rps: number, cores: number) => (cores > 0 ? Math.round(rps / cores) : 0);
  const authPerCpu = perCpu(auth.channelAuth.requestsPerSec, auth.channelAuthServerCpuCores);
  const healthPerCpu = perCpu(auth.apiHealth.requestsPerSec, auth.apiHealthServerCpuCores);
  const loadRows = (index: number): Row[] => {
    const ourLoad = o.loads[index]!;
    const bareLoad = b.loads[index]!;
    const at = `at ${Math.round(ourLoad.share * 100)}% of bare capacity (${fmt(ourLoad.rate, 1)} triggers/s)`;
    const p99Ratio = ratio(ourLoad.latency.p99, bareLoad.latency.p99);
    return [
      {
        section: "channels",
        figure: `trigger written -> each delivery ${at}, p50`,
        value: `${fmt(ourLoad.latency.p50, 2)} ms`,
        peer: "bare Socket.IO, same rate",
        peerValue: `${fmt(bareLoad.latency.p50, 2)} ms`,
        ratio: ratio(ourLoad.latency.p50, bareLoad.latency.p50),
        target: "(info)",
        meets: null,
      },
      {
        section: "channels",
        figure: `trigger written -> each delivery ${at}, p99 (${fmt(ourLoad.latency.count)} deliveries)`,
        value: `${fmt(ourLoad.latency.p99, 2)} ms`,
        peer: "bare Socket.IO, same rate",
        peerValue: `${fmt(bareLoad.latency.p99, 2)} ms`,
        ratio: p99Ratio,
        target: `<= ${TARGETS.channelsP99VsBare}x bare`,
        meets: ourLoad.latency.count > 0 && bareLoad.latency.count > 0 && p99Ratio <= TARGETS.channelsP99VsBare,
      },
    ];
  };
  return [
    {
      section: "channels",
      figure: `fan-out deliveries/s: 1 signed REST trigger -> ${fmt(options.subscribers)} subscribers (median of ${options.singleTriggers})`,
      value: `${fmt(o.single.deliveriesPerSec)}/s`,
      peer: "bare Socket.IO: POST -> io.to(room).emit",
      peerValue: `${fmt(b.single.deliveriesPerSec)}/s`,
      ratio: fanoutRatio,
      target: `>= ${TARGETS.channelsFanoutVsBare}x bare`,
      meets: fanoutRatio >= TARGETS.channelsFanoutVsBare,
    },
    {
      section: "channels",
      figure: "trigger written -> last delivery, p50 / max (same triggers)",
      value: `${fmt(o.single.toLastDelivery.p50, 2)} / ${fmt(o.single.toLastDelivery.max, 2)} ms`,
      peer: "bare Socket.IO",
      peerValue: `${fmt(b.single.toLastDelivery.p50, 2)} / ${fmt(b.single.toLastDelivery.max, 2)} ms`,
      ratio: ratio(o.single.toLastDelivery.p50, b.single.toLastDelivery.p50),
      target: "(info)",
      meets: null,
    },
    {
      section: "channels",
      figure: `burst deliveries/s: ${options.burstTriggers} triggers back to back, ${options.burstConnections} connections`,
      value: `${fmt(o.burst.deliveriesPerSec)}/s`,
      peer: "bare Socket.IO",
      peerValue: `${fmt(b.burst.deliveriesPerSec)}/s`,
      ratio: ratio(o.burst.deliveriesPerSec, b.burst.deliveriesPerSec),
      target: "(info)",
      meets: null,
    },
    ...options.loadShares.flatMap((_share, index) => loadRows(index)),
    {
      section: "channels",
      figure: `req/s POST /api/channel-auth (presence, Bearer token), ${auth.channelAuth.connections} conns`,
      value: `${fmt(auth.channelAuth.requestsPerSec)}/s`,
      peer: "GET /api/health, same server and settings",
      peerValue: `${fmt(auth.apiHealth.requestsPerSec)}/s`,
      ratio: ratio(auth.channelAuth.requestsPerSec, auth.apiHealth.requestsPerSec),
      target: "(info)",
      meets: null,
    },
    {
      section: "channels",
      figure: "channel-auth requests per server CPU-second",
      value: `${fmt(authPerCpu)}/cpu-s`,
      peer: "GET /api/health per server CPU-second",
      peerValue: `${fmt(healthPerCpu)}/cpu-s`,
      ratio: ratio(authPerCpu, healthPerCpu),
      target: "(info)",
      meets: null,
    },
    {
      section: "channels",
      figure: `presence churn events/s at the observer: ${fmt(options.presenceUsers)} users join, then leave`,
      value: `${fmt(ours.presence.eventsPerSec)}/s`,
      peer: "bare Socket.IO (room + member map)",
      peerValue: `${fmt(bare.presence.eventsPerSec)}/s`,
      ratio: ratio(ours.presence.eventsPerSec, bare.presence.eventsPerSec),
      target: "(info)",
      meets: null,
    },
    {
      section: "channels",
      figure: "channel errors: deliveries, triggers, presence notices and counts, channel-auth",
      value: fmt(ours.errorCount + authErrors),
      peer: "bare Socket.IO (deliveries, presence)",
      peerValue: fmt(bare.errorCount),
      ratio: null,
      target: "0",
      meets: ours.errorCount + authErrors === 0 && bare.errorCount === 0,
    },
  ];
}

function toNotes(result: ChannelsBenchResult): string[] {
  const { ours, bare, auth, options } = result;
  const number = (n: number) => n.toLocaleString("en-US");
  const load = (index: number) => {
    const o = ours.fanout.loads[index]!;
    const b = bare.fanout.loads[index]!;
    return (
      `at ${Math.round(o.share * 100)}% (${o.rate}/s) sent ${o.achievedRate}/s (bare ${b.achievedRate}/s), ` +
      `p99 by round ${o.roundP99s.join(", ")} ms (bare ${b.roundP99s.join(", ")}), server CPU ${o.serverCpuCores} cores ` +
      `(bare ${b.serverCpuCores}), subscribers + sender ${o.generatorCpuCores} (bare run ${b.generatorCpuCores})`
    );
  };
  const notes = [
    `channels: ${number(options.subscribers)} subscribers per server in ${options.holders} holder processes; ` +
      `fan-out capacity in this run (burst) ours ${number(ours.fanout.burst.deliveriesPerSec)}/s, bare ${number(bare.fanout.burst.deliveriesPerSec)}/s; ` +
      `the open-loop loads are shares of bare's, each server ${options.steadyRounds} rounds per load (alternating order, deliveries pooled): ` +
      options.loadShares.map((_share, index) => load(index)).join("; "),
    `channels presence: join ${ours.presence.joinMs} ms + leave ${ours.presence.leaveMs} ms (bare ${bare.presence.joinMs} + ${bare.presence.leaveMs}); ` +
      `member count ${ours.presence.countAfterJoins} -> ${ours.presence.countAtEnd} (bare ${bare.presence.countAfterJoins} -> ${bare.presence.countAtEnd}); ` +
      `the other members received ${number(ours.presence.memberNotices)} notices (bare ${number(bare.presence.memberNotices)})`,
    `channels auth: server CPU ${auth.channelAuthServerCpuCores} cores for channel-auth, ${auth.apiHealthServerCpuCores} for /api/health; ` +
      `latency p50/p99 ${auth.channelAuth.latencyP50Ms}/${auth.channelAuth.latencyP99Ms} ms (health ${auth.apiHealth.latencyP50Ms}/${auth.apiHealth.latencyP99Ms} ms)`,
  ];
  const ourErrors = { ...ours.fanout.errors, ...ours.presence.errors, ...auth.errors };
  if (sumErrors(ourErrors) > 0) notes.push(`channels, our errors: ${JSON.stringify(ourErrors)}`);
  const bareErrors = { ...bare.fanout.errors, ...bare.presence.errors };
  if (sumErrors(bareErrors) > 0) notes.push(`channels, bare errors: ${JSON.stringify(bareErrors)}`);
  return notes;
}
