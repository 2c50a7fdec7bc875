import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger";

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString("utf8")) as Record<string, unknown>);
      done();
    },
  });
  return { log: createLogger("info", stream), lines };
}

describe("createLogger", () => {
  it("keeps err.code, so SQLITE_BUSY and friends reach the logs", () => {
    const { log, lines } = capture();
    log.error({ err: Object.assign(new Error("database is locked"), { code: "SQLITE_BUSY" }) }, "write failed");
    expect(lines[0]!.err).toMatchObject({ type: "Error", message: "database is locked", code: "SQLITE_BUSY" });
  });

  it("keeps the protocol's error codes, at the top and one level down", () => {
    const { log, lines } = capture();
    log.info({ event: "data_fetch_refused", code: "replayed", result: { code: "invalid_signature" } }, "refused");
    expect(lines[0]).toMatchObject({ code: "replayed", result: { code: "invalid_signature" } });
  });

  it("hides one-time codes where login states, statuses and redeem bodies carry them", () => {
    const { log, lines } = capture();
    const code = "one-time-code-that-must-not-be-logged";
    log.info(
      {
        session: { sessionId: "s1", state: "approved", code },
        status: { state: "approved", code },
        state: { state: "approved", code },
        body: { code },
        req: { body: { code }, headers: { authorization: "Bearer abc", cookie: "rt=xyz" } },
        redeem: { code },
      },
      "login",
    );
    const text = JSON.stringify(lines[0]);
    expect(text).not.toContain(code);
    expect(text).not.toContain("Bearer abc");
    expect(text).not.toContain("rt=xyz");
    expect(lines[0]).toMatchObject({ session: { sessionId: "s1", state: "approved", code: "[redacted]" } });
  });

  it("hides tokens, secrets and private keys one level down wherever they sit", () => {
    const { log, lines } = capture();
    log.info(
      {
        tokens: { accessToken: "at-secret", refreshToken: "rt-secret", token: "t-secret" },
        login: { browserSecret: "bs-secret" },
        app: { privateKey: "pk-secret" },
      },
      "secrets",
    );
    const text = JSON.stringify(lines[0]);
    for (const secret of ["at-secret", "rt-secret", "t-secret", "bs-secret", "pk-secret"]) {
      expect(text).not.toContain(secret);
    }
  });
});
