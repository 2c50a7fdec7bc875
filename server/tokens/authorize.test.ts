import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createAccessTokenVerifier, issueAccessToken } from "./access-tokens";
import { authorizeRequest, readBearerToken } from "./authorize";
import { loadOrCreateSigningKey } from "./keys";

const audience = { issuer: "http://localhost:3000", audience: "http://localhost:3000" };
const unauthorized = {
  ok: false,
  status: 401,
  code: "invalid_token",
  wwwAuthenticate: 'Bearer error="invalid_token"',
};

describe("authorizeRequest", () => {
  let dataDir: string;
  let token: string;
  let verifier: ReturnType<typeof createAccessTokenVerifier>;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "wl-authz-"));
    const key = await loadOrCreateSigningKey(dataDir);
    verifier = createAccessTokenVerifier([key], audience);
    ({ token } = await issueAccessToken(key, { ...audience, userId: "u1", address: "0xabc", ttlSeconds: 60 }));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("accepts a valid bearer token and returns its claims", async () => {
    const result = await authorizeRequest(`Bearer ${token}`, verifier);
    expect(result).toMatchObject({ ok: true, claims: { sub: "u1", address: "0xabc" } });
    expect((await authorizeRequest(`bearer ${token}`, verifier)).ok).toBe(true);
  });

  it("answers 401 invalid_token with the challenge for every failure", async () => {
    const headers = [
      undefined,
      null,
      "",
      "Bearer",
      "Bearer ",
      token,
      `Basic ${token}`,
      `Bearer ${token} extra`,
      `Bearer ${token},x`,
      `Bearer ${token.slice(0, -3)}`,
      `Bearer\t${token}`,
      `Bearer ${"a".repeat(9000)}`,
    ];
    for (const header of headers) expect(await authorizeRequest(header, verifier)).toEqual(unauthorized);
  });

  it("does not call the verifier when the header is not a bearer token", async () => {
    const spy = vi.fn(verifier);
    await authorizeRequest("Basic dXNlcjpwYXNz", spy);
    await authorizeRequest(undefined, spy);
    expect(spy).not.toHaveBeenCalled();
    await authorizeRequest(`Bearer ${token}`, spy);
    expect(spy).toHaveBeenCalledWith(token);
  });

  it("reads token68 credentials only", () => {
    expect(readBearerToken("Bearer abc.def-_~+/==")).toBe("abc.def-_~+/==");
    expect(readBearerToken("Bearer a=b")).toBeUndefined();
    expect(readBearerToken("Bearer  spaced ")).toBe("spaced");
  });
});
