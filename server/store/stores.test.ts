/**
 * One suite, run against the memory stores and against a real Redis (TEST_REDIS_URL or
 * redis://127.0.0.1:6379). Locally the Redis half is skipped with a printed reason when
 * no server answers; in CI it fails instead. Redis keys use a prefix unique to the run
 * and only those keys are deleted at the end.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ENDED_STATES } from "../../lib/protocol/login";
import type { LoginState } from "../../lib/protocol/login";
import { createStores } from "./index";
import { createMemoryStores } from "./memory";
import { createRedisClient, createRedisStores } from "./redis";
import type { LoginSessionRecord, Stores, TransitionRequest } from "./types";

const REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";
const isCI = process.env.CI === "true";
const prefix = `test:${randomUUID()}:`;

const redisUnavailableReason = await probeRedis(REDIS_URL);
if (redisUnavailableReason) console.warn(`[stores.test] Redis half skipped: ${redisUnavailableReason}`);

async function probeRedis(url: string): Promise<string | null> {
  try {
    const client = await createRedisClient(url, { connectTimeoutMs: 1_500 });
    await client.quit();
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

const randomId = () => randomBytes(16).toString("base64url");
const sha256 = (value: string) => createHash("sha256").update(value).digest("base64url");

interface TestSession {
  record: LoginSessionRecord;
  browserSecret: string;
}

function makeSession(overrides: Partial<LoginSessionRecord> = {}): TestSession {
  const browserSecret = randomBytes(32).toString("base64url");
  const now = Date.now();
  return {
    browserSecret,
    record: {
      id: randomId(),
      state: "pending",
      nonce: randomBytes(12).toString("hex"),
      browserSecretHash: sha256(browserSecret),
      matchCode: "42",
      matchChoices: ["17", "42", "86"],
      requiredClaims: [],
      issuedAt: now,
      expiresAt: now + 120_000,
      ...overrides,
    },
  };
}

function describeStores(name: string, makeStores: () => Promise<Stores>) {
  describe(name, () => {
    let stores: Stores;
    beforeAll(async () => {
      stores = await makeStores();
    });
    afterAll(async () => {
      await stores?.close();
    });

    /** Creates a session and walks it to `state` through the store itself. */
    async function createIn(state: LoginState, keepMs = 60_000): Promise<TestSession> {
      const session = makeSession();
      await stores.loginSessions.create(session.record, Date.now() + keepMs);
      if (state !== "pending") {
        const result = await stores.loginSessions.transition(session.record.id, { from: ["pending"], to: state });
        expect(result.ok).toBe(true);
      }
      return session;
    }

    describe("key values (push login, section 5)", () => {
      it("takes a value once, even when many take it at once", async () => {
        const key = `challenge-${Math.random()}`;
        await stores.keyValues.put(key, "v", Date.now() + 60_000);
        const taken = await Promise.all(Array.from({ length: 20 }, () => stores.keyValues.take(key)));
        expect(taken.filter((v) => v === "v")).toHaveLength(1);
        expect(await stores.keyValues.get(key)).toBeNull();
      });

      it("swaps in a value and returns the one it replaced, each exactly once", async () => {
        const key = `latest-${Math.random()}`;
        const olds = await Promise.all(
          Array.from({ length: 20 }, (_, i) => stores.keyValues.swap(key, `s${i}`, Date.now() + 60_000)),
        );
        // Every value but the last one written is handed back exactly once: a chain, no loss.
        expect(olds.filter((v) => v === null)).toHaveLength(1);
        const last = await stores.keyValues.get(key);
        const returned = olds.filter((v): v is string => v !== null);
        expect(new Set([...returned, last]).size).toBe(20);
      });

      it("forgets a value at its deadline", async () => {
        const key = `due-${Math.random()}`;
        await stores.keyValues.put(key, "v", Date.now() - 1);
        expect(await stores.keyValues.take(key)).toBeNull();
      });

      it("keeps the transition from a pending QR session to scanned off a push session", async () => {
        const { record } = makeSession({ kind: "push", pushAddress: "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4" });
        await stores.loginSessions.create(record, Date.now() + 60_000);
        const scanned = await stores.loginSessions.transition(record.id, {
          from: ["pending"],
          to: "scanned",
          expect: { pushAddress: undefined },
        });
        expect(scanned.ok).toBe(false);
        const fetched = await stores.loginSessions.transition(record.id, { from: ["pending"], to: "fetched" });
        expect(fetched).toMatchObject({ ok: true, session: { state: "fetched" } });
      });
    });

    describe("create and get", () => {
      it("stores a session and reads back an equal copy", async () => {
        const { record } = makeSession({ issuedAt: 1_767_225_599_987, expiresAt: 1_767_225_719_987 });
        await stores.loginSessions.create(record, Date.now() + 60_000);
        expect(await stores.loginSessions.get(record.id)).toEqual(record);
      });

      it("returns null for an unknown id", async () => {
        expect(await stores.loginSessions.get(randomId())).toBeNull();
      });

      it("refuses a second create with the same id", async () => {
        const { record } = makeSession();
        await stores.loginSessions.create(record, Date.now() + 60_000);
        await expect(stores.loginSessions.create({ ...record, nonce: "other" }, Date.now() + 60_000)).rejects.toThrow();
        expect((await stores.loginSessions.get(record.id))?.nonce).toBe(record.nonce);
      });

      it("hands out copies: changing a returned record changes nothing stored", async () => {
        const { record } = makeSession();
        await stores.loginSessions.create(record, Date.now() + 60_000);
        record.matchChoices.push("99");
        const read = await stores.loginSessions.get(record.id);
        expect(read?.matchChoices).toEqual(["17", "42", "86"]);
        read!.state = "approved";
        read!.requiredClaims.push("age_over_18");
        expect(await stores.loginSessions.get(record.id)).toMatchObject({ state: "pending", requiredClaims: [] });
      });
    });

    describe("transitions", () => {
      const allowed: Array<[LoginState, LoginState]> = [
        ["pending", "scanned"],
        ["pending", "approved"],
        ["scanned", "approved"],
        ["approved", "redeemed"],
        ["pending", "denied"],
        ["scanned", "denied"],
        ["pending", "cancelled"],
        ["scanned", "cancelled"],
        ["approved", "cancelled"],
        ["pending", "expired"],
        ["scanned", "expired"],
        ["approved", "expired"],
        ["pending", "suspended"],
      ];
      it.each(allowed)("%s -> %s", async (from, to) => {
        const { record } = await createIn(from);
        const result = await stores.loginSessions.transition(record.id, { from: [from], to });
        expect(result).toEqual({ ok: true, session: { ...record, state: to } });
        expect(await stores.loginSessions.get(record.id)).toEqual({ ...record, state: to });
      });

      it("approves and redeems with the expected secret hash and code, clearing the code", async () => {
        const { record, browserSecret } = await createIn("scanned");
        const code = randomBytes(32).toString("base64url");
        const codeExpiresAt = Date.now() + 60_000;
        const approved = await stores.loginSessions.transition(record.id, {
          from: ["pending", "scanned"],
          to: "approved",
          patch: { userId: "user-1", address: "0x0000000000000000000000000000000000000001", code, codeExpiresAt },
          keepUntil: codeExpiresAt,
        });
        expect(approved).toEqual({
          ok: true,
          session: { ...record, state: "approved", userId: "user-1", address: expect.any(String), code, codeExpiresAt },
        });

        const redeemed = await stores.loginSessions.transition(record.id, {
          from: ["approved"],
          to: "redeemed",
          expect: { browserSecretHash: sha256(browserSecret), code },
          patch: { code: undefined, codeExpiresAt: undefined },
        });
        expect(redeemed.ok).toBe(true);
        expect(redeemed.session).not.toHaveProperty("code");
        expect(redeemed.session).not.toHaveProperty("codeExpiresAt");
        expect(redeemed.session).toMatchObject({ state: "redeemed", userId: "user-1" });
        expect(await stores.loginSessions.get(record.id)).toEqual(redeemed.session);

        // Single use: the same redeem again is refused.
        const again = await stores.loginSessions.transition(record.id, {
          from: ["approved"],
          to: "redeemed",
          expect: { browserSecretHash: sha256(browserSecret), code },
        });
        expect(again.ok).toBe(false);
      });

      it("refuses a transition from the wrong state and returns the session unchanged", async () => {
        const { record } = await createIn("pending");
        const result = await stores.loginSessions.transition(record.id, {
          from: ["approved"],
          to: "redeemed",
          patch: { reason: "nope" },
        });
        expect(result).toEqual({ ok: false, session: record });
        expect(await stores.loginSessions.get(record.id)).toEqual(record);
      });

      it("refuses an empty from list", async () => {
        const { record } = await createIn("pending");
        expect((await stores.loginSessions.transition(record.id, { from: [], to: "scanned" })).ok).toBe(false);
      });

      it("refuses a wrong browser secret hash", async () => {
        const { record } = await createIn("pending");
        const result = await stores.loginSessions.transition(record.id, {
          from: ["pending", "scanned"],
          to: "cancelled",
          expect: { browserSecretHash: sha256("not the secret") },
        });
        expect(result).toEqual({ ok: false, session: record });
      });

      it("refuses a wrong code, a code when none is stored, and a missing code when one is", async () => {
        const code = randomBytes(32).toString("base64url");
        const { record, browserSecret } = await createIn("scanned");
        const redeem = (expected: TransitionRequest["expect"]) =>
          stores.loginSessions.transition(record.id, { from: ["approved"], to: "redeemed", expect: expected });
        const secretHash = sha256(browserSecret);

        // Approved without a code yet: any code is wrong.
        await stores.loginSessions.transition(record.id, { from: ["scanned"], to: "approved" });
        expect((await redeem({ browserSecretHash: secretHash, code })).ok).toBe(false);

        await stores.loginSessions.transition(record.id, { from: ["approved"], to: "approved", patch: { code } });
        expect(
          (await redeem({ browserSecretHash: secretHash, code: code.slice(0, -1) + (code.endsWith("A") ? "B" : "A") }))
            .ok,
        ).toBe(false);
        expect((await redeem({ browserSecretHash: secretHash, code: code.slice(0, 10) })).ok).toBe(false);
        expect((await redeem({ browserSecretHash: secretHash, code: "" })).ok).toBe(false);
        // An expectation passed as undefined means "must be absent", never "do not check".
        expect((await redeem({ browserSecretHash: secretHash, code: undefined })).ok).toBe(false);
        expect((await stores.loginSessions.get(record.id))?.state).toBe("approved");
        expect((await redeem({ browserSecretHash: secretHash, code })).ok).toBe(true);
      });

      it("refuses an unknown id", async () => {
        const result = await stores.loginSessions.transition(randomId(), { from: ["pending"], to: "scanned" });
        expect(result).toEqual({ ok: false, session: null });
      });

      it.each([...ENDED_STATES])("never leaves the ended state %s, even when from lists it", async (ended) => {
        const { record } = await createIn(ended);
        for (const to of ["pending", "scanned", "approved", "redeemed", "expired", ended] as const) {
          const result = await stores.loginSessions.transition(record.id, {
            from: [ended],
            to,
            patch: { reason: "x" },
          });
          expect(result).toEqual({ ok: false, session: { ...record, state: ended } });
        }
        expect(await stores.loginSessions.get(record.id)).toEqual({ ...record, state: ended });
      });

      it("merges the patch: sets given fields, keeps others, removes fields given as undefined", async () => {
        const { record } = await createIn("pending");
        const first = await stores.loginSessions.transition(record.id, {
          from: ["pending"],
          to: "scanned",
          patch: { reason: "first", userId: "u1", matchChoices: ["11", "42", "99"], requiredClaims: ["age_over_18"] },
        });
        expect(first.session).toEqual({
          ...record,
          state: "scanned",
          reason: "first",
          userId: "u1",
          matchChoices: ["11", "42", "99"],
          requiredClaims: ["age_over_18"],
        });
        const second = await stores.loginSessions.transition(record.id, {
          from: ["scanned"],
          to: "denied",
          patch: { reason: "wrong_match_code", userId: undefined, requiredClaims: [] },
        });
        const expected = {
          ...record,
          state: "denied",
          reason: "wrong_match_code",
          matchChoices: ["11", "42", "99"],
          requiredClaims: [],
        };
        expect(second.session).toEqual(expected);
        expect(await stores.loginSessions.get(record.id)).toEqual(expected);
      });

      it("ignores id and state in a patch", async () => {
        const { record } = await createIn("pending");
        const patch = { id: "other", state: "redeemed", reason: "r" } as unknown as TransitionRequest["patch"];
        const result = await stores.loginSessions.transition(record.id, { from: ["pending"], to: "scanned", patch });
        expect(result.session).toEqual({ ...record, state: "scanned", reason: "r" });
        expect(await stores.loginSessions.get("other")).toBeNull();
      });

      it("with liveAt, moves an open session only before its expiresAt and an approved one before its code's", async () => {
        const { record } = await createIn("pending");
        const lapsed = await stores.loginSessions.transition(record.id, {
          from: ["pending"],
          to: "scanned",
          liveAt: record.expiresAt,
        });
        expect(lapsed).toEqual({ ok: false, session: record });
        const live = await stores.loginSessions.transition(record.id, {
          from: ["pending"],
          to: "scanned",
          liveAt: record.expiresAt - 1,
        });
        expect(live.ok).toBe(true);

        // Approved: the code's time counts, not the session's.
        const codeExpiresAt = record.expiresAt - 60_000;
        await stores.loginSessions.transition(record.id, {
          from: ["scanned"],
          to: "approved",
          patch: { codeExpiresAt },
        });
        const afterCode = { from: ["approved"], to: "redeemed", liveAt: codeExpiresAt } as const;
        expect((await stores.loginSessions.transition(record.id, afterCode)).session?.state).toBe("approved");
        const beforeCode = await stores.loginSessions.transition(record.id, {
          ...afterCode,
          liveAt: codeExpiresAt - 1,
        });
        expect(beforeCode.session?.state).toBe("redeemed");
      });

      it("lets exactly one of 100 concurrent transitions win", async () => {
        const { record } = await createIn("pending");
        const results = await Promise.all(
          Array.from({ length: 100 }, (_, i) =>
            stores.loginSessions.transition(record.id, {
              from: ["pending"],
              to: "scanned",
              patch: { userId: `u${i}` },
            }),
          ),
        );
        const winners = results.filter((result) => result.ok);
        expect(winners).toHaveLength(1);
        const winnerUserId = winners[0]!.session!.userId;
        for (const result of results) expect(result.session).toMatchObject({ state: "scanned", userId: winnerUserId });
        expect((await stores.loginSessions.get(record.id))?.userId).toBe(winnerUserId);
      });

      it("lets exactly one of 100 concurrent redeems of one code win", async () => {
        const code = randomBytes(32).toString("base64url");
        const { record, browserSecret } = await createIn("pending");
        await stores.loginSessions.transition(record.id, { from: ["pending"], to: "approved", patch: { code } });
        const results = await Promise.all(
          Array.from({ length: 100 }, () =>
            stores.loginSessions.transition(record.id, {
              from: ["approved"],
              to: "redeemed",
              expect: { browserSecretHash: sha256(browserSecret), code },
              patch: { code: undefined },
            }),
          ),
        );
        expect(results.filter((result) => result.ok)).toHaveLength(1);
      });
    });

    describe("expiry", () => {
      it("forgets a session at keepUntil", async () => {
        const { record } = await createIn("pending", 250);
        expect(await stores.loginSessions.get(record.id)).not.toBeNull();
        await sleep(350);
        expect(await stores.loginSessions.get(record.id)).toBeNull();
        const result = await stores.loginSessions.transition(record.id, { from: ["pending"], to: "scanned" });
        expect(result).toEqual({ ok: false, session: null });
      });

      it("extends the keep time by a later keepUntil and never shortens it", async () => {
        const extended = await createIn("pending", 250);
        const kept = await createIn("pending", 900);
        const now = Date.now();
        expect(
          (
            await stores.loginSessions.transition(extended.record.id, {
              from: ["pending"],
              to: "scanned",
              keepUntil: now + 1_200,
            })
          ).ok,
        ).toBe(true);
        expect(
          (
            await stores.loginSessions.transition(kept.record.id, {
              from: ["pending"],
              to: "scanned",
              keepUntil: now + 50,
            })
          ).ok,
        ).toBe(true);
        await sleep(400);
        expect(await stores.loginSessions.get(extended.record.id)).toMatchObject({ state: "scanned" });
        expect(await stores.loginSessions.get(kept.record.id)).toMatchObject({ state: "scanned" });
      });
    });

    describe("forgetAt", () => {
      it("forgets a session at forgetAt, sooner than its keep time and than a keepUntil in the same transition", async () => {
        const { record } = await createIn("pending", 60_000);
        const now = Date.now();
        const ended = await stores.loginSessions.transition(record.id, {
          from: ["pending"],
          to: "cancelled",
          keepUntil: now + 60_000,
          forgetAt: now + 400,
        });
        expect(ended.ok).toBe(true);
        await sleep(900);
        expect(await stores.loginSessions.get(record.id)).toBeNull();
      });

      it("keeps a session past its keep time when forgetAt is later", async () => {
        const { record } = await createIn("pending", 300);
        const moved = await stores.loginSessions.transition(record.id, {
          from: ["pending"],
          to: "cancelled",
          forgetAt: Date.now() + 60_000,
        });
        expect(moved.ok).toBe(true);
        await sleep(800);
        expect(await stores.loginSessions.get(record.id)).toMatchObject({ state: "cancelled" });
      });
    });

    describe("rate limiter", () => {
      it("counts hits, refuses past the limit with retryAfterMs, and keeps keys apart", async () => {
        const key = `ip:${randomUUID()}`;
        const { rateLimiter } = stores;
        expect(await rateLimiter.hit(key, 3, 10_000)).toEqual({ ok: true, remaining: 2 });
        expect(await rateLimiter.hit(key, 3, 10_000)).toEqual({ ok: true, remaining: 1 });
        expect(await rateLimiter.hit(key, 3, 10_000)).toEqual({ ok: true, remaining: 0 });
        const refused = await rateLimiter.hit(key, 3, 10_000);
        expect(refused.ok).toBe(false);
        if (!refused.ok) {
          expect(refused.retryAfterMs).toBeGreaterThan(9_000);
          expect(refused.retryAfterMs).toBeLessThanOrEqual(10_000);
        }
        expect((await rateLimiter.hit(key, 3, 10_000)).ok).toBe(false);
        expect(await rateLimiter.hit(`ip:${randomUUID()}`, 3, 10_000)).toEqual({ ok: true, remaining: 2 });
        // Another window length on the same key is another counter.
        expect(await rateLimiter.hit(key, 3, 20_000)).toEqual({ ok: true, remaining: 2 });
      });

      it("starts a new window once the old one has passed", async () => {
        const key = `ip:${randomUUID()}`;
        const { rateLimiter } = stores;
        expect(await rateLimiter.hit(key, 1, 200)).toEqual({ ok: true, remaining: 0 });
        const refused = await rateLimiter.hit(key, 1, 200);
        expect(refused.ok).toBe(false);
        if (!refused.ok) expect(refused.retryAfterMs).toBeLessThanOrEqual(200);
        await sleep(300);
        expect(await rateLimiter.hit(key, 1, 200)).toEqual({ ok: true, remaining: 0 });
      });

      it("slides: a hit leaves the window a window after it was accepted, not when a fixed window ends", async () => {
        const key = `ip:${randomUUID()}`;
        const { rateLimiter } = stores;
        const windowMs = 3_000;
        expect(await rateLimiter.hit(key, 2, windowMs)).toEqual({ ok: true, remaining: 1 });
        await sleep(1_500);
        expect(await rateLimiter.hit(key, 2, windowMs)).toEqual({ ok: true, remaining: 0 });
        const full = await rateLimiter.hit(key, 2, windowMs);
        if (full.ok) expect.unreachable("a third hit within the window was accepted");
        // The first hit leaves first; the refused hit was not kept.
        expect(full.retryAfterMs).toBeLessThanOrEqual(1_500);
        await sleep(full.retryAfterMs + 50);
        expect(await rateLimiter.hit(key, 2, windowMs)).toEqual({ ok: true, remaining: 0 });
        // A fixed window would have started afresh here; the second hit is still in this one.
        const again = await rateLimiter.hit(key, 2, windowMs);
        if (again.ok) expect.unreachable("the window was reset instead of sliding");
        expect(again.retryAfterMs).toBeGreaterThan(0);
      });

      it("is shared by concurrent hits: exactly `limit` of them pass", async () => {
        const key = `ip:${randomUUID()}`;
        const results = await Promise.all(Array.from({ length: 50 }, () => stores.rateLimiter.hit(key, 10, 10_000)));
        expect(results.filter((result) => result.ok)).toHaveLength(10);
      });
    });

    describe("replay cache", () => {
      it("lets a key be claimed once until it expires, and keeps keys apart", async () => {
        const key = randomId();
        const { replayCache } = stores;
        expect(await replayCache.claim(key, Date.now() + 10_000)).toBe(true);
        expect(await replayCache.claim(key, Date.now() + 10_000)).toBe(false);
        expect(await replayCache.claim(key, Date.now() + 20_000)).toBe(false);
        expect(await replayCache.claim(randomId(), Date.now() + 10_000)).toBe(true);
      });

      it("forgets a key at its expiresAt", async () => {
        const key = randomId();
        expect(await stores.replayCache.claim(key, Date.now() + 200)).toBe(true);
        expect(await stores.replayCache.claim(key, Date.now() + 200)).toBe(false);
        await sleep(350);
        expect(await stores.replayCache.claim(key, Date.now() + 200)).toBe(true);
      });

      it("lets exactly one of 100 concurrent claims of one key win", async () => {
        const key = randomId();
        const results = await Promise.all(
          Array.from({ length: 100 }, () => stores.replayCache.claim(key, Date.now() + 10_000)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });
    });

    describe("close", () => {
      it("closes, refuses use afterwards, and may be called twice", async () => {
        const own = await makeStores();
        const { record } = makeSession();
        await own.loginSessions.create(record, Date.now() + 60_000);
        await own.close();
        await expect(own.loginSessions.get(record.id)).rejects.toThrow();
        await expect(own.close()).resolves.toBeUndefined();
      });
    });
  });
}

describeStores("memory stores", async () => createMemoryStores());

describe("createRedisClient", () => {
  it("reports a Redis that does not answer, without its password", async () => {
    await expect(createRedisClient("redis://user:s3cret@127.0.0.1:1", { connectTimeoutMs: 300 })).rejects.toThrow(
      /^Redis at redis:\/\/127\.0\.0\.1:1 did not answer within 300 ms/,
    );
  });
});

describe("createStores", () => {
  it("chooses memory without a Redis URL", async () => {
    const stores = await createStores({ prefix });
    expect(stores.kind).toBe("memory");
    await stores.close();
  });
});

if (redisUnavailableReason && isCI) {
  describe("redis stores", () => {
    it("needs a Redis server in CI", () => {
      throw new Error(`Redis must answer in CI: ${redisUnavailableReason}`);
    });
  });
} else {
  describe.skipIf(redisUnavailableReason !== null)("redis", () => {
    afterAll(async () => {
      const client = await createRedisClient(REDIS_URL);
      try {
        let cursor = "0";
        do {
          const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
          cursor = next;
          if (keys.length > 0) await client.unlink(...keys);
        } while (cursor !== "0");
      } finally {
        await client.quit();
      }
    });

    describeStores("redis stores", () => createRedisStores({ url: REDIS_URL, prefix }));

    it("createStores chooses Redis with a URL", async () => {
      const stores = await createStores({ redisUrl: REDIS_URL, prefix });
      expect(stores.kind).toBe("redis");
      await stores.close();
    });

    it("keeps each replay claim in one key under the prefix that expires at expiresAt", async () => {
      const client = await createRedisClient(REDIS_URL);
      const stores = await createRedisStores({ url: REDIS_URL, prefix });
      try {
        const key = randomId();
        const expiresAt = Date.now() + 30_000;
        expect(await stores.replayCache.claim(key, expiresAt)).toBe(true);
        expect(await client.pexpiretime(`${prefix}replay:${key}`)).toBe(Math.ceil(expiresAt));
      } finally {
        await stores.close();
        await client.quit();
      }
    });

    it("keeps each session in one key under the prefix, with an expiry", async () => {
      const client = await createRedisClient(REDIS_URL);
      const stores = await createRedisStores({ url: REDIS_URL, prefix });
      try {
        const { record } = makeSession();
        const keepUntil = Date.now() + 30_000;
        await stores.loginSessions.create(record, keepUntil);
        const key = `${prefix}login:${record.id}`;
        expect(JSON.parse((await client.get(key))!)).toEqual(record);
        const pttl = await client.pttl(key);
        expect(pttl).toBeGreaterThan(25_000);
        expect(pttl).toBeLessThanOrEqual(30_000);
        await stores.loginSessions.transition(record.id, { from: ["pending"], to: "scanned" });
        expect(await client.pttl(key)).toBeGreaterThan(25_000);
      } finally {
        await stores.close();
        await client.quit();
      }
    });
  });
}

describe("memory rate limiter against a model of the sliding window", () => {
  it("accepts, refuses and says when to retry exactly as a list of the accepted hits would, across many windows", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }),
        async (limit, gaps) => {
          let now = 1_000_000;
          const stores = createMemoryStores({ now: () => now });
          const windowMs = 1000;
          const accepted: number[] = [];
          try {
            for (const gap of gaps) {
              now += gap;
              const inWindow = accepted.filter((at) => at > now - windowMs);
              const expected =
                inWindow.length >= limit
                  ? { ok: false, retryAfterMs: Math.max(1, inWindow[inWindow.length - limit]! + windowMs - now) }
                  : { ok: true, remaining: limit - inWindow.length - 1 };
              expect(await stores.rateLimiter.hit("ip:model", limit, windowMs)).toEqual(expected);
              if (expected.ok) accepted.push(now);
            }
          } finally {
            await stores.close();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
