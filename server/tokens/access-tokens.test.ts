import { createHmac, createPublicKey } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { SignJWT, decodeJwt, decodeProtectedHeader, generateKeyPair } from "jose";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createAccessTokenVerifier, issueAccessToken, verifyAccessToken } from "./access-tokens";
import { loadOrCreateSigningKey } from "./keys";
import type { SigningKey } from "./keys";

const audience = { issuer: "http://localhost:3000", audience: "http://localhost:3000" };
const subject = { userId: "user_1", address: "0x52908400098527886E0F7030069857D2E4169EE7" };
const invalid = { ok: false, code: "invalid_token" };

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");

describe("access tokens", () => {
  let dataDir: string;
  let key: SigningKey;
  let otherKey: SigningKey;

  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "wl-at-"));
    key = await loadOrCreateSigningKey(path.join(dataDir, "a"));
    otherKey = await loadOrCreateSigningKey(path.join(dataDir, "b"));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const issue = (ttlSeconds = 900) => issueAccessToken(key, { ...audience, ...subject, ttlSeconds });
  const verify = (token: string) => verifyAccessToken([key], token, audience);
  const claimsOf = async (token: string) => decodeJwt(token);
  // Signed with the real key, so only the property under test is wrong.
  const signRaw = (header: Record<string, unknown>, claims: Record<string, unknown>, signer = key) =>
    new SignJWT(claims).setProtectedHeader({ alg: "ES256", ...header }).sign(signer.privateKey);

  it("round-trips: header, claims and lifetime", async () => {
    const { token, expiresIn } = await issue(600);
    expect(expiresIn).toBe(600);
    expect(decodeProtectedHeader(token)).toEqual({ alg: "ES256", kid: key.kid, typ: "at+jwt" });

    const result = await verify(token);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.claims).toMatchObject({
      iss: audience.issuer,
      aud: audience.audience,
      sub: subject.userId,
      address: subject.address,
    });
    expect(result.claims.exp - result.claims.iat).toBe(600);
    expect(result.claims.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect((await claimsOf((await issue()).token)).jti).not.toBe(result.claims.jti);
  });

  it("refuses lifetimes over 15 minutes, zero, or fractional", async () => {
    await expect(issue(901)).rejects.toThrow(RangeError);
    await expect(issue(0)).rejects.toThrow(RangeError);
    await expect(issue(1.5)).rejects.toThrow(RangeError);
  });

  it("rejects a tampered payload", async () => {
    const [header, payload, signature] = (await issue()).token.split(".");
    const claims = JSON.parse(Buffer.from(payload ?? "", "base64url").toString()) as Record<string, unknown>;
    const forged = `${header}.${encode({ ...claims, sub: "admin" })}.${signature}`;
    expect(await verify(forged)).toEqual(invalid);
  });

  it("rejects a tampered signature", async () => {
    const { token } = await issue();
    const signature = Buffer.from(token.split(".")[2] ?? "", "base64url");
    signature[10] = (signature[10] ?? 0) ^ 0x01;
    const forged = `${token.split(".").slice(0, 2).join(".")}.${signature.toString("base64url")}`;
    expect(await verify(forged)).toEqual(invalid);
  });

  it("rejects alg none", async () => {
    const claims = await claimsOf((await issue()).token);
    for (const alg of ["none", "None", "NONE"]) {
      const unsigned = `${encode({ alg, kid: key.kid, typ: "at+jwt" })}.${encode(claims)}.`;
      expect(await verify(unsigned)).toEqual(invalid);
    }
  });

  it("rejects HS256 signed with the public key as the secret", async () => {
    const claims = await claimsOf((await issue()).token);
    const pem = createPublicKey({ key: key.publicJwk, format: "jwk" }).export({ type: "spki", format: "pem" });
    const der = createPublicKey({ key: key.publicJwk, format: "jwk" }).export({ type: "spki", format: "der" });
    for (const secret of [pem, der, JSON.stringify(key.publicJwk), key.publicJwk.x]) {
      const signingInput = `${encode({ alg: "HS256", kid: key.kid, typ: "at+jwt" })}.${encode(claims)}`;
      const mac = createHmac("sha256", secret).update(signingInput).digest("base64url");
      expect(await verify(`${signingInput}.${mac}`)).toEqual(invalid);
    }
  });

  it("rejects another asymmetric alg under our kid", async () => {
    const claims = await claimsOf((await issue()).token);
    const { privateKey } = await generateKeyPair("ES384");
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: "ES384", kid: key.kid, typ: "at+jwt" })
      .sign(privateKey);
    expect(await verify(token)).toEqual(invalid);
  });

  it("rejects an expired token", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(Date.now() - 61_000);
    const { token } = await issue(60);
    vi.useRealTimers();
    expect(await verify(token)).toEqual(invalid);
  });

  it("rejects a wrong audience or issuer", async () => {
    const { token } = await issue();
    expect(await verifyAccessToken([key], token, { ...audience, audience: "https://evil.example" })).toEqual(invalid);
    expect(await verifyAccessToken([key], token, { ...audience, issuer: "https://evil.example" })).toEqual(invalid);
  });

  it("rejects a wrong or missing typ", async () => {
    const claims = await claimsOf((await issue()).token);
    expect(await verify(await signRaw({ kid: key.kid, typ: "JWT" }, claims))).toEqual(invalid);
    expect(await verify(await signRaw({ kid: key.kid }, claims))).toEqual(invalid);
    // The control: same claims, right typ.
    expect((await verify(await signRaw({ kid: key.kid, typ: "at+jwt" }, claims))).ok).toBe(true);
  });

  it("rejects an unknown, missing or borrowed kid", async () => {
    const claims = await claimsOf((await issue()).token);
    const foreign = (await issueAccessToken(otherKey, { ...audience, ...subject, ttlSeconds: 60 })).token;
    expect(await verify(foreign)).toEqual(invalid);
    expect(await verify(await signRaw({ typ: "at+jwt" }, claims))).toEqual(invalid);
    expect(await verify(await signRaw({ kid: key.kid, typ: "at+jwt" }, claims, otherKey))).toEqual(invalid);
    // With both keys configured (rotation) both verify.
    expect((await verifyAccessToken([key, otherKey], foreign, audience)).ok).toBe(true);
  });

  it("rejects claims it would never issue", async () => {
    const claims = await claimsOf((await issue()).token);
    const header = { kid: key.kid, typ: "at+jwt" };
    const now = Math.floor(Date.now() / 1000);
    const { address: _address, ...withoutAddress } = claims;
    const { jti: _jti, ...withoutJti } = claims;
    const variants = [
      { ...claims, iat: now, exp: now + 901 },
      withoutAddress,
      withoutJti,
      { ...claims, sub: "" },
      { ...claims, aud: [audience.audience, "https://other.example"] },
    ];
    for (const variant of variants) expect(await verify(await signRaw(header, variant))).toEqual(invalid);
  });

  it("refuses an iat ahead of now beyond the skew, or older than the lifetime cap", async () => {
    const claims = await claimsOf((await issue()).token);
    const header = { kid: key.kid, typ: "at+jwt" };
    const now = Math.floor(Date.now() / 1000);
    // A year ahead, with a lifetime within the cap: signed with the real key, still refused.
    const ahead = now + 365 * 86_400;
    expect(await verify(await signRaw(header, { ...claims, iat: ahead, exp: ahead + 600 }))).toEqual(invalid);
    expect(await verify(await signRaw(header, { ...claims, iat: now + 120, exp: now + 720 }))).toEqual(invalid);
    // A few seconds ahead (another node's clock) is fine.
    expect((await verify(await signRaw(header, { ...claims, iat: now + 5, exp: now + 605 }))).ok).toBe(true);
  });

  it("rejects malformed input without throwing", async () => {
    const inputs = ["", "abc", "a.b.c", "..", "e30.e30.", "x".repeat(5000), (await issue()).token + "."];
    for (const input of inputs) expect(await verify(input)).toEqual(invalid);
    expect(await verify(undefined as unknown as string)).toEqual(invalid);
    expect(await verifyAccessToken([], (await issue()).token, audience)).toEqual(invalid);
  });

  it("verifies with a prepared verifier", async () => {
    const verifier = createAccessTokenVerifier([key], audience);
    const { token } = await issue();
    expect((await verifier(token)).ok).toBe(true);
    expect(await verifier(token.slice(0, -2))).toEqual(invalid);
  });

  it("remembers accepted tokens until their exp, and never a refusal", async () => {
    let clock = Date.now();
    const verifier = createAccessTokenVerifier([key], audience, { now: () => clock });
    const { token } = await issue(60);
    const first = await verifier(token);
    expect(first.ok).toBe(true);
    // A remembered token skips the signature check: the same result object comes back.
    expect(await verifier(token)).toBe(first);
    // A one-character change is a different token, checked in full (and refused).
    // (Its first signature character: the last one also carries unused padding bits.)
    const at = token.lastIndexOf(".") + 1;
    const tampered = `${token.slice(0, at)}${token[at] === "A" ? "B" : "A"}${token.slice(at + 1)}`;
    expect(await verifier(tampered)).toEqual(invalid);
    expect(await verifier(tampered)).toEqual(invalid);
    clock += 61_000;
    expect(await verifier(token)).toEqual(invalid);
  });

  it("keeps at most cacheSize tokens, dropping the oldest", async () => {
    const verifier = createAccessTokenVerifier([key], audience, { cacheSize: 2 });
    const [a, b, c] = await Promise.all([issue(), issue(), issue()]);
    const resultA = await verifier(a.token);
    const resultB = await verifier(b.token);
    await verifier(c.token); // drops a
    expect(await verifier(b.token)).toBe(resultB);
    const again = await verifier(a.token);
    expect(again.ok).toBe(true);
    expect(again).not.toBe(resultA); // checked in full again
  });
});
