/**
 * The Redis stores' epoch (redis.ts) across a restart from persisted data: Redis comes back
 * with the session it held (append-only file) but another run_id, so every node adopts a new
 * epoch, reset listeners hear it, and the login service ends the restored session as
 * `expired` (`store_reset`) instead of taking a wallet answer for it: a restart from an older
 * copy cannot bring back a state from before an approval. A Redis of the test's own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import type { LoginStateEvent } from "../../lib/protocol/login";
import { hasRedisServer, startRedisProcess, type RedisProcess } from "../../test/support/redis-process";
import { createLoginService } from "../login/login-service";
import { createRedisStores } from "./redis";
import type { Stores } from "./types";

const isAvailable = hasRedisServer();
if (!isAvailable) {
  if (process.env.CI === "true") throw new Error("redis-server is not installed; CI needs it");
  console.warn("skipping the Redis epoch suite: redis-server is not installed");
}

describe.skipIf(!isAvailable)("the Redis stores' epoch across a restart with persistence", () => {
  let redis: RedisProcess | undefined;
  let stores: Stores | undefined;

  beforeAll(async () => {
    redis = await startRedisProcess({ persistent: true });
    stores = await createRedisStores({ url: redis.url, prefix: "epoch-test:" });
  });
  afterAll(async () => {
    await stores?.close();
    await redis?.stop();
  });

  it("moves to a later second after a restart, and the restored session ends as store_reset", async () => {
    const notified: LoginStateEvent[] = [];
    const service = createLoginService({
      config: {
        publicUrl: "http://localhost:3000",
        domain: "localhost:3000",
        appName: "Epoch",
        chainId: 1,
        loginTtlMs: 120_000,
      },
      store: stores!.loginSessions,
      verifier: { backend: "js", recoverAddress: () => null },
      presentations: { verify: () => Promise.reject(new Error("not used")) },
      notify: (event) => notified.push(event),
      onApproved: () => Promise.reject(new Error("not used")),
      scheduleExpiry: () => {},
      readStoreEpoch: () => stores!.readEpoch(),
    });
    const before = await stores!.readEpoch();
    expect(before % 1000).toBe(0);
    const session = await service.startLogin({});
    expect((await service.resumeLogin(session)).ok).toBe(true);

    const reset = new Promise<number>((resolve) => stores!.onReset(resolve));
    await redis!.kill();
    await redis!.restart();
    const after = await reset;
    expect(after).toBeGreaterThan(before);
    expect(await stores!.readEpoch()).toBe(after);

    // The record came back from the append-only file, still pending...
    const restored = await stores!.loginSessions.get(session.sessionId);
    expect(restored).toMatchObject({ state: "pending" });
    expect(restored!.browserSecretHash).toBe(createHash("sha256").update(session.browserSecret).digest("base64url"));
    // ...and is ended rather than answered: the wallet's fetch (one compare-and-set on its fast
    // path) does not move it to scanned, and the browser hears the end.
    expect(await service.readLoginRequest(session.sessionId)).toMatchObject({ ok: false, code: "session_expired" });
    expect(notified).toEqual([{ sessionId: session.sessionId, state: "expired", reason: "store_reset" }]);
    const resumed = await service.resumeLogin(session);
    expect(resumed).toMatchObject({ ok: true, session: { state: "expired", reason: "store_reset" } });
  });
});
