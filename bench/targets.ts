/** The targets of the benchmark's figures (bench/README.md says what each means); written into the JSON. */
export const TARGETS = {
  recoveryPerSec: 10_000,
  recoveryVsEthers: 15,
  loginsPerSec: 1500,
  memoryVsBare: 1.3,
  channelsFanoutVsBare: 0.8,
  /** Trigger -> each delivery p99 at 25% and 50% of the bare server's burst capacity, over bare's (issue 15 item 5). */
  channelsP99VsBare: 1.3,
  /** Node CPU per login on PostgreSQL + Redis over the same on SQLite + memory (issue 15 item 1). */
  productionNodeCpuVsSqlite: 2,
  /** Wallet POST sent -> browser login:state, open loop at half the measured capacity (issue 15 item 5). */
  loginLatencyHalfLoadP99Ms: 20,
  /** Our complete logins/s over the guides' siwe + Prisma + jose Next route handler (issue 15 item 5). */
  loginsVsSiwePeer: 4,
  /** Our verified data fetches/s over the web3 recover + Prisma handler (issue 15 item 5). */
  dataVsWeb3Peer: 10,
  /** JS heap after the soak's idle phase over the same after its warm-up (issue 15 item 6). */
  soakHeapAfterIdleVsWarmup: 1.1,
} as const;
