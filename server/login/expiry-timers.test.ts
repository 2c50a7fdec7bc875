/**
 * Expiry timers with real, short timers (tens of milliseconds). Each test waits on the
 * callback itself, or on a margin well past the due time when it checks that nothing fired.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { afterEach, describe, expect, it } from "vitest";
import { createExpiryTimers } from "./expiry-timers";
import type { ExpiryTimers } from "./expiry-timers";

const open: ExpiryTimers[] = [];
afterEach(() => {
  for (const timers of open.splice(0)) timers.close();
});

/** Timers whose calls are recorded with the time they came, and awaitable one by one. */
function createRecordedTimers() {
  const calls: { sessionId: string; at: number }[] = [];
  let waiters: (() => void)[] = [];
  const timers = createExpiryTimers((sessionId) => {
    calls.push({ sessionId, at: Date.now() });
    for (const wake of waiters) wake();
    waiters = [];
  });
  open.push(timers);
  const waitForCalls = async (count: number, timeoutMs = 1_000) => {
    const deadline = Date.now() + timeoutMs;
    while (calls.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${calls.length} of ${count} calls came`);
      await Promise.race([new Promise<void>((resolve) => waiters.push(resolve)), sleep(20)]);
    }
  };
  return { timers, calls, waitForCalls };
}

describe("createExpiryTimers", () => {
  it("calls onDue once, no earlier than the due time, and forgets the timer", async () => {
    const { timers, calls, waitForCalls } = createRecordedTimers();
    const due = Date.now() + 30;
    timers.schedule("s1", due);
    expect(timers.size).toBe(1);
    await waitForCalls(1);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.sessionId).toBe("s1");
    expect(calls[0]?.at).toBeGreaterThanOrEqual(due);
    expect(timers.size).toBe(0);
    await sleep(40);
    expect(calls).toHaveLength(1);
  });

  it("fires at once for a time already past", async () => {
    const { timers, calls, waitForCalls } = createRecordedTimers();
    const started = Date.now();
    timers.schedule("late", started - 10_000);
    await waitForCalls(1);
    expect(calls[0]?.sessionId).toBe("late");
    expect((calls[0]?.at ?? Infinity) - started).toBeLessThan(500);
  });

  it("keeps one timer per session: a reschedule replaces the earlier one", async () => {
    const { timers, calls, waitForCalls } = createRecordedTimers();
    const first = Date.now() + 20;
    timers.schedule("s1", first);
    const later = Date.now() + 80;
    timers.schedule("s1", later);
    expect(timers.size).toBe(1);
    await waitForCalls(1);
    expect(calls).toEqual([{ sessionId: "s1", at: expect.any(Number) }]);
    expect(calls[0]?.at).toBeGreaterThanOrEqual(later);
    await sleep(40);
    expect(calls).toHaveLength(1);
  });

  it("a reschedule can also bring the time forward", async () => {
    const { timers, calls, waitForCalls } = createRecordedTimers();
    timers.schedule("s1", Date.now() + 10_000);
    const sooner = Date.now() + 20;
    timers.schedule("s1", sooner);
    await waitForCalls(1);
    expect(calls[0]?.at).toBeGreaterThanOrEqual(sooner);
    expect(timers.size).toBe(0);
  });

  it("runs timers of different sessions independently, in due order", async () => {
    const { timers, calls, waitForCalls } = createRecordedTimers();
    const now = Date.now();
    timers.schedule("c", now + 60);
    timers.schedule("a", now + 10);
    timers.schedule("b", now + 35);
    expect(timers.size).toBe(3);
    await waitForCalls(3);
    expect(calls.map((c) => c.sessionId)).toEqual(["a", "b", "c"]);
    expect(timers.size).toBe(0);
  });

  it("cancel() drops one session's timer and its entry; the others still fire", async () => {
    const { timers, calls, waitForCalls } = createRecordedTimers();
    const now = Date.now();
    timers.schedule("a", now + 20);
    timers.schedule("b", now + 40);
    timers.cancel("a");
    expect(timers.size).toBe(1);
    await waitForCalls(1); // b, due after a: a fence for a's timer
    expect(calls.map((c) => c.sessionId)).toEqual(["b"]);
    expect(timers.size).toBe(0);
  });

  it("close() cancels every pending timer", async () => {
    const { timers, calls } = createRecordedTimers();
    const now = Date.now();
    timers.schedule("a", now + 20);
    timers.schedule("b", now + 30);
    timers.close();
    expect(timers.size).toBe(0);
    await sleep(80);
    expect(calls).toEqual([]);
  });

  it("can schedule again after close()", async () => {
    const { timers, calls, waitForCalls } = createRecordedTimers();
    timers.schedule("a", Date.now() + 20);
    timers.close();
    timers.schedule("b", Date.now() + 20);
    await waitForCalls(1);
    await sleep(30);
    expect(calls.map((c) => c.sessionId)).toEqual(["b"]);
  });

  it("does not keep the process alive", () => {
    const { timers } = createRecordedTimers();
    const before = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    timers.schedule("a", Date.now() + 60_000);
    // An unref'd timer is not listed among the resources that keep the event loop running.
    const after = process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    expect(after).toBe(before);
  });
});
