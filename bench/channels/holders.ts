/** The subscriber processes (bench/channels/holder-process.ts) as the parent drives them over IPC. */
import { fork, type ChildProcess } from "node:child_process";
import { ROOT, trackChild } from "../server-process";
import { mergeErrors, sleep } from "../stats";
import type { HolderCommand, HolderMessage, HolderOptions } from "./holder-process";
import { FANOUT_EVENT, HOLDER_SCRIPT, within } from "./shared";

// ---------------------------------------------------------------- holders

export type Reply<T extends HolderMessage["type"]> = Extract<HolderMessage, { type: T }>;

export interface Holder {
  pid: number;
  subscribed: number;
  send(command: HolderCommand): void;
  /** The next message of this type (one already received and not yet taken counts). */
  next<T extends HolderMessage["type"]>(type: T, timeoutMs: number): Promise<Reply<T>>;
  close(): Promise<Record<string, number>>;
}

/** Counts `seq` notices from the holders: a trigger is complete once every holder with a subscriber sent its own. */
export class SeqTracker {
  /** Holders with at least one subscribed socket (set once they are ready). */
  holders = 0;
  private readonly counts = new Map<number, number>();
  private readonly waiters = new Map<number, () => void>();
  notice(seq: number) {
    const n = (this.counts.get(seq) ?? 0) + 1;
    this.counts.set(seq, n);
    if (n === this.holders) this.waiters.get(seq)?.();
  }
  waitFor(seq: number): Promise<void> {
    if ((this.counts.get(seq) ?? 0) >= this.holders) return Promise.resolve();
    return new Promise((resolve) => this.waiters.set(seq, resolve));
  }
}

export function startHolder(
  options: HolderOptions,
  onSeq: (seq: number) => void,
): Holder & { ready: Promise<Reply<"ready">> } {
  const child: ChildProcess = fork(HOLDER_SCRIPT, [JSON.stringify(options)], {
    cwd: ROOT,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  trackChild(child);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const queues = new Map<string, HolderMessage[]>();
  const waiters = new Map<string, (message: HolderMessage) => void>();
  let exitCode: number | null | undefined;
  child.once("exit", (code) => {
    exitCode = code;
  });
  child.on("message", (msg: unknown) => {
    const message = msg as HolderMessage;
    if (message.type === "seq") return onSeq(message.seq);
    // A new phase starts: what is left of the previous one's notices no longer counts.
    if (message.type === "recording") queues.delete("phase-done");
    const waiter = waiters.get(message.type);
    if (waiter) {
      waiters.delete(message.type);
      waiter(message);
    } else queues.set(message.type, [...(queues.get(message.type) ?? []), message]);
  });
  const next = <T extends HolderMessage["type"]>(type: T, timeoutMs: number): Promise<Reply<T>> => {
    const queued = queues.get(type)?.shift();
    if (queued) return Promise.resolve(queued as Reply<T>);
    if (exitCode !== undefined) return Promise.reject(new Error(`channel holder exited (${exitCode})`));
    const work = new Promise<Reply<T>>((resolve, reject) => {
      waiters.set(type, (message) => resolve(message as Reply<T>));
      void exited.then(() => reject(new Error(`channel holder exited (${exitCode}) while waiting for ${type}`)));
    });
    return within(timeoutMs, `channel holder: no ${type} in ${timeoutMs} ms`, work).finally(() => waiters.delete(type));
  };
  const holder = {
    pid: child.pid ?? 0,
    subscribed: 0,
    // 250 sockets connect and subscribe in a few seconds; this only bounds a hung holder.
    ready: next("ready", Math.min(options.maxLifetimeMs, 120_000)),
    send(command: HolderCommand) {
      if (child.connected) child.send(command);
    },
    next,
    async close() {
      let errors: Record<string, number> = {};
      if (exitCode === undefined && child.connected) {
        child.send({ type: "close" } satisfies HolderCommand);
        errors = await next("closed", 15_000).then(
          (reply) => reply.errors,
          () => ({ "holder did not close": 1 }),
        );
      }
      const isDone = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      if (!isDone) child.kill("SIGKILL");
      return errors;
    },
  };
  // Awaited by openSide; this only keeps a holder that dies before anyone waits from crashing the run.
  holder.ready.catch(() => undefined);
  return holder;
}

export async function collect(holders: Holder[], sentAt: number[], timeoutMs: number, measureFrom = 0) {
  for (const holder of holders) holder.send({ type: "collect", sentAt, measureFrom });
  const replies = await Promise.all(holders.map((h) => h.next("collected", timeoutMs)));
  const latencies: number[] = [];
  const lastArrival = new Array<number>(sentAt.length).fill(0);
  const errors: Record<string, number> = {};
  for (const reply of replies) {
    for (const latency of reply.latencies) latencies.push(latency);
    reply.lastArrival.forEach((at, i) => {
      if (at > lastArrival[i]!) lastArrival[i] = at;
    });
    mergeErrors(errors, reply.errors);
  }
  return { latencies, lastArrival, errors };
}

export async function record(
  holders: Holder[],
  firstSeq: number,
  count: number,
  notifyEachSeq: boolean,
  timeoutMs: number,
) {
  for (const holder of holders) holder.send({ type: "record", event: FANOUT_EVENT, firstSeq, count, notifyEachSeq });
  await Promise.all(holders.map((h) => h.next("recording", timeoutMs)));
}

/** Waits for every holder's `phase-done`; a timeout is not thrown: the collect reports what is missing. */
export async function awaitPhaseDone(holders: Holder[], timeoutMs: number) {
  await Promise.allSettled(holders.map((h) => h.next("phase-done", timeoutMs)));
}
