/**
 * The demo attestor's per-IP rate limits (docs/protocol.md section 6.6), on the memory stores and on
 * Redis, where two app nodes on one prefix count into one window: the (n+1)-th
 * `POST /api/attestor/challenges` or `POST /api/attestor/requests` from one client IP within a
 * minute is `429 rate_limited` with Retry-After, every request counting (a refused one too); each
 * route has its own allowance, and each client IP its own. Loopback is the trusted proxy here, so
 * X-Forwarded-For names the client.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../support/start-test-app";
import { TEST_REDIS_URL, deleteRedisKeys } from "../support/services";
import { expectError, postJson, type HttpResult } from "./helpers";

const CHALLENGES_PER_IP = 3;
const REQUESTS_PER_IP = 2;

function expectRateLimited(res: HttpResult) {
  expectError(res, 429, "rate_limited");
  const retryAfter = Number(res.headers.get("retry-after"));
  expect(Number.isInteger(retryAfter)).toBe(true);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(60);
}

for (const kind of ["memory", "redis"] as const) {
  describe(`attestor rate limits per IP (${kind} stores)`, () => {
    const prefix = `test:${randomUUID()}:`;
    let nodes: TestApp[] = [];
    /** The n-th call goes to node n modulo the number of nodes (one node on memory stores). */
    let calls = 0;
    const post = (path: string, body: unknown, ip: string) =>
      postJson(`${nodes[calls++ % nodes.length]!.baseUrl}/api/attestor/${path}`, body, { "x-forwarded-for": ip });

    beforeAll(async () => {
      const env = {
        RATE_LIMIT_ATTESTOR_CHALLENGES_PER_IP: String(CHALLENGES_PER_IP),
        RATE_LIMIT_ATTESTOR_REQUESTS_PER_IP: String(REQUESTS_PER_IP),
        TRUSTED_PROXIES: "127.0.0.1",
      };
      nodes =
        kind === "memory"
          ? [await startTestApp(env)]
          : await Promise.all(
              [0, 1].map(() => startTestApp({ ...env, REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix })),
            );
    });
    afterAll(async () => {
      await Promise.all(nodes.map((node) => node.stop()));
      if (kind === "redis") await deleteRedisKeys(TEST_REDIS_URL, prefix);
    });

    it("refuses the challenge over the limit with 429 rate_limited and Retry-After; another IP has its own", async () => {
      const ip = "203.0.113.10";
      for (let i = 0; i < CHALLENGES_PER_IP; i++) {
        const challenge = await post("challenges", {}, ip);
        expect(challenge.status).toBe(200);
      }
      expectRateLimited(await post("challenges", {}, ip));
      // A malformed one counts and is refused the same way, before its body is read.
      expectRateLimited(await post("challenges", "{", ip));
      expect((await post("challenges", {}, "203.0.113.11")).status).toBe(200);
    });

    it("refuses the request over the limit, counting refused ones, apart from the challenges' allowance", async () => {
      const ip = "203.0.113.20";
      for (let i = 0; i < CHALLENGES_PER_IP; i++) expect((await post("challenges", {}, ip)).status).toBe(200);
      for (let i = 0; i < REQUESTS_PER_IP; i++) {
        expectError(await post("requests", { proof: "not.a.proof" }, ip), 401, "invalid_signature");
      }
      expectRateLimited(await post("requests", { proof: "not.a.proof" }, ip));
      expectError(await post("requests", { proof: "not.a.proof" }, "203.0.113.21"), 401, "invalid_signature");
    });
  });
}
