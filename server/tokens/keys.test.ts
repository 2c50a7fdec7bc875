import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { calculateJwkThumbprint } from "jose";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SIGNING_KEY_FILE, createJwks, loadOrCreateSigningKey } from "./keys";

describe("loadOrCreateSigningKey", () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), "wl-keys-"));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("creates the key once and reuses it on later starts", async () => {
    const first = await loadOrCreateSigningKey(dataDir);
    const second = await loadOrCreateSigningKey(dataDir);
    expect(second.kid).toBe(first.kid);
    expect(second.publicJwk).toEqual(first.publicJwk);
    expect(first.alg).toBe("ES256");
  });

  it("writes the private JWK with mode 0600 in a 0700 folder", async () => {
    await loadOrCreateSigningKey(dataDir);
    const file = path.join(dataDir, SIGNING_KEY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    const stored = JSON.parse(await readFile(file, "utf8")) as Record<string, unknown>;
    expect(stored).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256" });
    expect(typeof stored.d).toBe("string");
  });

  it("uses the RFC 7638 thumbprint as kid", async () => {
    const key = await loadOrCreateSigningKey(dataDir);
    const { kty, crv, x, y } = key.publicJwk;
    expect(key.kid).toBe(await calculateJwkThumbprint({ kty, crv, x, y }, "sha256"));
  });

  it("converges on one key when several starts race", async () => {
    const keys = await Promise.all(Array.from({ length: 5 }, () => loadOrCreateSigningKey(dataDir)));
    expect(new Set(keys.map((key) => key.kid)).size).toBe(1);
  });

  it("keeps the private key out of memory exports and error messages", async () => {
    const key = await loadOrCreateSigningKey(dataDir);
    expect((key.privateKey as CryptoKey).extractable).toBe(false);
    expect(key.publicJwk).not.toHaveProperty("d");

    const file = path.join(dataDir, SIGNING_KEY_FILE);
    const secret = "SECRET-KEY-MATERIAL";
    await writeFile(file, `{"d":"${secret}"`);
    const error: unknown = await loadOrCreateSigningKey(dataDir).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect(String(error)).toMatch(/not valid JSON/);
    expect(String(error)).not.toContain(secret);

    await writeFile(file, JSON.stringify({ kty: "oct", k: secret }));
    await expect(loadOrCreateSigningKey(dataDir)).rejects.toThrow(/private P-256 JWK/);
  });

  it("tightens the modes of an existing key folder and file", async () => {
    await loadOrCreateSigningKey(dataDir);
    const file = path.join(dataDir, SIGNING_KEY_FILE);
    await chmod(file, 0o644);
    await chmod(path.dirname(file), 0o755);
    await loadOrCreateSigningKey(dataDir);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
  });

  it("creates the data dir when it is missing", async () => {
    const nested = path.join(dataDir, "a", "b");
    const key = await loadOrCreateSigningKey(nested);
    expect(key.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("createJwks", () => {
  it("publishes only public members, with kid, alg and use", async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), "wl-keys-"));
    try {
      const key = await loadOrCreateSigningKey(dataDir);
      const jwks = createJwks([key]);
      expect(jwks).toEqual({
        keys: [
          {
            kty: "EC",
            crv: "P-256",
            x: key.publicJwk.x,
            y: key.publicJwk.y,
            kid: key.kid,
            alg: "ES256",
            use: "sig",
          },
        ],
      });
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
