import { describe, expect, it } from "vitest";
import pino from "pino";
import { Writable } from "node:stream";
import { runGuarded } from "./run-guarded";

function captureLog() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: "info" }, stream), lines };
}

describe("runGuarded", () => {
  it("hands the payload and the ack to the handler", async () => {
    const { log } = captureLog();
    const acks: unknown[] = [];
    await runGuarded(
      log,
      "login:cancel",
      [{ sessionId: "s" }, (res: unknown) => acks.push(res)],
      async (payload, ack) => {
        expect(payload).toEqual({ sessionId: "s" });
        ack({ ok: true });
      },
    );
    expect(acks).toEqual([{ ok: true }]);
  });

  it("reads an ack sent without a payload as no payload", async () => {
    const { log } = captureLog();
    const seen: unknown[] = [];
    await runGuarded(log, "login:start", [() => {}], async (payload) => {
      seen.push(payload);
    });
    expect(seen).toEqual([undefined]);
  });

  it("does not run a handler whose event needs an ack when none came", async () => {
    const { log } = captureLog();
    let ran = false;
    await runGuarded(log, "channel:subscribe", [{ channel: "a" }], async () => {
      ran = true;
    });
    expect(ran).toBe(false);
  });

  it("runs an event whose ack is optional with the payload alone", async () => {
    const { log } = captureLog();
    const seen: unknown[] = [];
    await runGuarded(
      log,
      "channel:unsubscribe",
      [{ channel: "a" }],
      async (payload, ack) => {
        seen.push(payload);
        ack({ ok: true });
      },
      { isAckOptional: true },
    );
    expect(seen).toEqual([{ channel: "a" }]);
  });

  it("acks an unexpected error as internal_error and logs it once", async () => {
    const { log, lines } = captureLog();
    const acks: unknown[] = [];
    await runGuarded(log, "login:resume", [{}, (res: unknown) => acks.push(res)], async () => {
      throw Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" });
    });
    expect(acks).toEqual([{ ok: false, error: { code: "internal_error", message: expect.any(String) } }]);
    const failed = lines.filter((line) => line.msg === "socket handler failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]!.event).toBe("login:resume");
  });
});
