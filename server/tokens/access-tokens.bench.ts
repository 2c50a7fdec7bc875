// npx vitest bench --run server/tokens
// Verification sits in front of every protected route. The baselines show what keeping
// the key imported once buys: the same work with the public key imported per call.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { importJWK, jwtVerify } from "jose";
import { afterAll, bench, describe } from "vitest";
import { createAccessTokenVerifier, issueAccessToken, verifyAccessToken } from "./access-tokens";
import { loadOrCreateSigningKey } from "./keys";

const audience = { issuer: "http://localhost:3000", audience: "http://localhost:3000" };
const dataDir = await mkdtemp(path.join(tmpdir(), "wl-bench-"));
const key = await loadOrCreateSigningKey(dataDir);
const input = { ...audience, userId: "user_1", address: "0x52908400098527886E0F7030069857D2E4169EE7", ttlSeconds: 900 };
const { token } = await issueAccessToken(key, input);
const verifier = createAccessTokenVerifier([key], audience);

afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe("issue", () => {
  bench("issueAccessToken (key imported once)", async () => {
    await issueAccessToken(key, input);
  });
});

describe("verify", () => {
  bench("createAccessTokenVerifier, prepared", async () => {
    const result = await verifier(token);
    if (!result.ok) throw new Error("verify failed");
  });
  bench("verifyAccessToken (kid map per call)", async () => {
    const result = await verifyAccessToken([key], token, audience);
    if (!result.ok) throw new Error("verify failed");
  });
  bench("baseline: jwtVerify importing the public JWK per call", async () => {
    await jwtVerify(token, await importJWK(key.publicJwk, "ES256"), { ...audience, typ: "at+jwt" });
  });
});
