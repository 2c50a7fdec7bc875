import { benchChannels, type ChannelsBenchOptions, type ChannelsBenchResult } from "../channels/index";
import { sumErrors } from "../stats";
import type { FanoutMeasurement, SteadyMeasurement } from "../channels/index";
import { summarizeProfile, type ProfileSummary } from "../profile-summary";
import { fmt, positiveFlag, ratio, type SectionContext, type SectionReport } from "../section";
import type { Row } from "../table";
import { TARGETS } from "../targets";

export const name = "channels";

/** Section flags: --subscribers=1000 --holders=4 --steady-rate=100 --light-rate=25 --presence-users=500. */
const FLAGS = [
  ["subscribers", "subscribers"],
  ["holders", "holders"],
  ["steady-rate", "steadyRate"],
  ["light-rate", "lightRate"],
  ["presence-users", "presenceUsers"],
] as const;

export async function run(context: SectionContext): Promise<SectionReport> {
  const { log, isProfiling, resultsDir } = context;
  const given: Partial<ChannelsBenchOptions> = { log, ...(isProfiling ? { cpuProfileDir: resultsDir } : {}) };
  for (const [flag, key] of FLAGS) {
    const value = positiveFlag(context, flag, 0);
    if (value > 0) given[key] = Math.round(value);
  }
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
  const steadyRow = (rate: number, of: (f: FanoutMeasurement) => SteadyMeasurement, hasTarget: boolean): Row[] => [
    {
      section: "channels",
      figure: `trigger written -> each delivery at ${rate} triggers/s, p50`,
      value: `${fmt(of(o).latency.p50, 2)} ms`,
      peer: "bare Socket.IO, same rate",
      peerValue: `${fmt(of(b).latency.p50, 2)} ms`,
      ratio: ratio(of(o).latency.p50, of(b).latency.p50),
      target: "(info)",
      meets: null,
    },
    {
      section: "channels",
      figure: `trigger written -> each delivery at ${rate} triggers/s, p99 (${fmt(of(o).latency.count)} deliveries)`,
      value: `${fmt(of(o).latency.p99, 2)} ms`,
      peer: "bare Socket.IO, same rate",
      peerValue: `${fmt(of(b).latency.p99, 2)} ms`,
      ratio: ratio(of(o).latency.p99, of(b).latency.p99),
      target: hasTarget ? `<= ${TARGETS.channelsSteadyP99Ms} ms` : "(info)",
      meets: hasTarget ? of(o).latency.count > 0 && of(o).latency.p99 <= TARGETS.channelsSteadyP99Ms : null,
    },
  ];
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
    ...steadyRow(options.steadyRate, (f) => f.steady, true),
    ...steadyRow(options.lightRate, (f) => f.light, false),
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
  const steady = (kind: "steady" | "light") => {
    const o = ours.fanout[kind];
    const b = bare.fanout[kind];
    return (
      `at ${o.rate}/s sent ${o.achievedRate}/s (bare ${b.achievedRate}/s), server CPU ${o.serverCpuCores} cores ` +
      `(bare ${b.serverCpuCores}), subscribers + sender ${o.generatorCpuCores} (bare run ${b.generatorCpuCores})`
    );
  };
  const notes = [
    `channels: ${number(options.subscribers)} subscribers per server in ${options.holders} holder processes; ` +
      `fan-out capacity in this run (burst) ours ${number(ours.fanout.burst.deliveriesPerSec)}/s, bare ${number(bare.fanout.burst.deliveriesPerSec)}/s, ` +
      `so ${options.steadyRate} triggers/s (${number(options.steadyRate * options.subscribers)} deliveries/s offered) ` +
      `${options.steadyRate * options.subscribers > Math.max(ours.fanout.burst.deliveriesPerSec, bare.fanout.burst.deliveriesPerSec) ? "is MORE than either server fans out here: that latency is a growing queue" : "is within both servers' capacity"}; ` +
      `${steady("steady")}; ${steady("light")}`,
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
