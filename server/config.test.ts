import fs from "node:fs";
import path from "node:path";
import { parseEnv } from "node:util";
import { describe, expect, it } from "vitest";
import { generatePrivateJwk } from "../lib/claims/es256k";
import { CONFIG_ENV_KEYS, ConfigError, loadConfig } from "./config";

const { d: _private, ...attestorJwk } = generatePrivateJwk();
const PUBLIC_URL = "https://login.example.com";
/** loadConfig on these variables and a PUBLIC_URL (NODE_ENV may be left out: it defaults to production). */
const load = (vars: Record<string, string>) => loadConfig({ PUBLIC_URL, ...vars });

describe("loadConfig: defaults that fail closed", () => {
  it("is production when NODE_ENV is unset: no Next dev mode, no development attestor", () => {
    const config = load({});
    expect(config.env).toBe("production");
    expect(config.isDev).toBe(false);
    expect(config.claims.devAttestor).toBe(false);
    expect(config.publicUrl).toBe(PUBLIC_URL);
  });

  it("refuses to start in production without PUBLIC_URL, saying which variable and why", () => {
    for (const env of [{}, { NODE_ENV: "production" }, { NODE_ENV: "production", PUBLIC_URL: "" }]) {
      expect(() => loadConfig(env)).toThrow(ConfigError);
      expect(() => loadConfig(env)).toThrow(/PUBLIC_URL: required in production/);
    }
  });

  it("gives development, and only development when explicit, its local defaults", () => {
    const config = loadConfig({ NODE_ENV: "development", PORT: "4123" });
    expect(config.isDev).toBe(true);
    expect(config.claims.devAttestor).toBe(true);
    expect(config.publicUrl).toBe("http://localhost:4123");
  });

  it("runs tests without PUBLIC_URL, in neither dev mode nor with the development attestor", () => {
    const config = loadConfig({ NODE_ENV: "test" });
    expect(config.isDev).toBe(false);
    expect(config.claims.devAttestor).toBe(false);
  });

  it("lets a tool that serves nothing (the app CLI) open the database without PUBLIC_URL", () => {
    const config = loadConfig({ DATA_DIR: "/tmp/x" }, { isPublicUrlRequired: false });
    expect(config.env).toBe("production");
    expect(config.databaseProvider).toBe("sqlite");
  });
});

describe("loadConfig: verifiable claims", () => {
  it("reads ADMIN_ADDRESSES as checksummed addresses, refuses a bad one, and DEMO_ATTESTOR on by default", () => {
    const config = load({ ADMIN_ADDRESSES: " 0x5d5c99edf529335160ff180fa141dd4967fc00d2 , " });
    expect([...config.adminAddresses]).toEqual(["0x5d5c99EdF529335160FF180fA141Dd4967fc00D2"]);
    expect(load({}).adminAddresses.size).toBe(0);
    expect(() => load({ ADMIN_ADDRESSES: "0x123" })).toThrow(/ADMIN_ADDRESSES: "0x123" is not a 0x address/);
    expect(load({}).demoAttestor).toBe(true);
    expect(load({ DEMO_ATTESTOR: "false" }).demoAttestor).toBe(false);
  });

  it("reads TRUSTED_ATTESTORS as issuer -> public JWK", () => {
    const config = load({ TRUSTED_ATTESTORS: JSON.stringify({ "https://a.example": attestorJwk }) });
    expect([...config.claims.trustedAttestors]).toEqual([["https://a.example", attestorJwk]]);
  });

  it("trusts no attestor by default", () => {
    expect(load({ NODE_ENV: "production" }).claims.trustedAttestors.size).toBe(0);
  });

  it("turns the development attestor on in development only, unless DEV_ATTESTOR says otherwise", () => {
    expect(load({ NODE_ENV: "development" }).claims.devAttestor).toBe(true);
    expect(load({}).claims.devAttestor).toBe(false);
    expect(load({ NODE_ENV: "test" }).claims.devAttestor).toBe(false);
    expect(load({ NODE_ENV: "production" }).claims.devAttestor).toBe(false);
    expect(load({ NODE_ENV: "development", DEV_ATTESTOR: "false" }).claims.devAttestor).toBe(false);
    expect(load({ NODE_ENV: "test", DEV_ATTESTOR: "true" }).claims.devAttestor).toBe(true);
    // An empty value (as copied from .env.example) keeps the default.
    expect(load({ NODE_ENV: "development", DEV_ATTESTOR: "" }).claims.devAttestor).toBe(true);
    expect(load({ DEV_ATTESTOR: "" }).claims.devAttestor).toBe(false);
  });

  it.each([
    ["text that is not JSON", "{nope", /must be JSON/],
    ["an array", JSON.stringify([attestorJwk]), /JSON object/],
    ["a private key", JSON.stringify({ a: generatePrivateJwk() }), /private part/],
    ["a key of another curve", JSON.stringify({ a: { ...attestorJwk, crv: "P-256" } }), /not a public secp256k1 JWK/],
    [
      "a point off the curve",
      JSON.stringify({ a: { ...attestorJwk, y: attestorJwk.x } }),
      /not a public secp256k1 JWK/,
    ],
    ["an empty issuer name", JSON.stringify({ "": attestorJwk }), /1-512 characters/],
  ])("refuses TRUSTED_ATTESTORS holding %s with a readable message", (_name, value, message) => {
    expect(() => load({ TRUSTED_ATTESTORS: value })).toThrow(ConfigError);
    expect(() => load({ TRUSTED_ATTESTORS: value })).toThrow(message);
  });

  it("never quotes a private key it refuses", () => {
    const key = generatePrivateJwk();
    try {
      load({ TRUSTED_ATTESTORS: JSON.stringify({ a: key }) });
      expect.unreachable();
    } catch (error) {
      expect(String((error as Error).message)).not.toContain(key.d);
    }
  });
});

describe("loadConfig: SQLite writer thread", () => {
  it("is off unless SQLITE_WRITER_THREAD is true", () => {
    expect(load({}).sqliteWriterThread).toBe(false);
    expect(load({ SQLITE_WRITER_THREAD: "false" }).sqliteWriterThread).toBe(false);
    expect(load({ SQLITE_WRITER_THREAD: "true" }).sqliteWriterThread).toBe(true);
    expect(() => load({ SQLITE_WRITER_THREAD: "sometimes" })).toThrow(ConfigError);
  });
});

describe("loadConfig: trusted proxies", () => {
  it("trusts no proxy by default", () => {
    expect(load({}).trustedProxies.entries).toEqual([]);
  });

  it("reads TRUSTED_PROXIES as IPs and CIDRs; TRUST_PROXY=true adds loopback", () => {
    const config = load({ TRUSTED_PROXIES: " 10.0.0.0/8 , 192.0.2.1,", TRUST_PROXY: "true" });
    expect(config.trustedProxies.entries).toEqual(["10.0.0.0/8", "192.0.2.1", "127.0.0.0/8", "::1/128"]);
    expect(config.trustedProxies.isTrusted("10.20.30.40")).toBe(true);
    expect(config.trustedProxies.isTrusted("127.0.0.1")).toBe(true);
    expect(config.trustedProxies.isTrusted("192.0.2.2")).toBe(false);
    expect(load({ TRUST_PROXY: "true" }).trustedProxies.entries).toEqual(["127.0.0.0/8", "::1/128"]);
  });

  it("refuses an entry that is not an address with a readable message", () => {
    expect(() => load({ TRUSTED_PROXIES: "10.0.0.0/8,proxy.internal" })).toThrow(ConfigError);
    expect(() => load({ TRUSTED_PROXIES: "10.0.0.0/8,proxy.internal" })).toThrow(/TRUSTED_PROXIES: .*proxy\.internal/);
  });
});

describe("loadConfig: match modes", () => {
  it("lets the QR flow choose and push logins type by default", () => {
    expect(load({}).matchModes).toEqual({ qr: "choose", push: "type" });
  });

  it("reads QR_MATCH_MODE and PUSH_MATCH_MODE, and refuses other values by name", () => {
    expect(load({ QR_MATCH_MODE: "type", PUSH_MATCH_MODE: "choose" }).matchModes).toEqual({
      qr: "type",
      push: "choose",
    });
    expect(() => load({ QR_MATCH_MODE: "guess" })).toThrow(/QR_MATCH_MODE/);
    expect(() => load({ PUSH_MATCH_MODE: "TYPE" })).toThrow(ConfigError);
  });
});

describe("loadConfig: empty values", () => {
  it("starts from .env.example copied as it is: every empty value is its default", () => {
    const example = parseEnv(fs.readFileSync(path.join(import.meta.dirname, "../.env.example"), "utf8"));
    const config = loadConfig(example);
    expect(config.databaseUrl).toBe(load({}).databaseUrl);
    expect(config.redisUrl).toBeUndefined();
    expect(config.allowedOrigins).toEqual(["http://localhost:3000"]);
    expect(config.demoAttestor).toBe(true);
    expect(config.sqliteWriterThread).toBe(false);
  });

  it("reads an empty value as unset, never as 0, false or an empty list", () => {
    const empty = Object.fromEntries(CONFIG_ENV_KEYS.filter((key) => key !== "PUBLIC_URL").map((key) => [key, ""]));
    const config = load(empty);
    const defaults = load({});
    expect(config.port).toBe(3000);
    expect(config.allowedOrigins).toEqual([PUBLIC_URL]);
    expect(config.demoAttestor).toBe(true);
    expect(config.sqliteWriterThread).toBe(false);
    expect(config.redisPrefix).toBe("wl:");
    expect({ ...config, trustedProxies: undefined }).toEqual({ ...defaults, trustedProxies: undefined });
  });

  it("names the variable and the reason for a value out of range or of the wrong kind", () => {
    expect(() => load({ PORT: "http" })).toThrow(/PORT: .*number/);
    expect(() => load({ PORT: "70000" })).toThrow(/PORT: .*65535/);
    expect(() => load({ LOGIN_TTL_SECONDS: "5" })).toThrow(/LOGIN_TTL_SECONDS: .*10/);
    expect(() => load({ DATABASE_URL: "mysql://x" })).toThrow(/DATABASE_URL: must start with file:/);
    expect(() => load({ METRICS_TOKEN: "short" })).toThrow(/METRICS_TOKEN: must be at least 16 characters/);
    expect(() => load({ PUBLIC_URL: "https://login.example.com/app" })).toThrow(/PUBLIC_URL: must be an origin/);
    expect(() => load({ DEMO_ATTESTOR: "yes" })).toThrow(/DEMO_ATTESTOR/);
  });
});

describe("loadConfig: server API mTLS", () => {
  it("refuses a certificate, key or CA that is neither PEM text nor a readable file, naming it", () => {
    const mtls = {
      SERVER_API_MTLS_PORT: "0",
      SERVER_API_MTLS_CERT: "/nonexistent/c.pem",
      SERVER_API_MTLS_KEY: "-----BEGIN x",
      SERVER_API_MTLS_CA: "-----BEGIN x",
    };
    expect(() => load(mtls)).toThrow(
      /SERVER_API_MTLS_CERT: neither PEM text nor a readable file: \/nonexistent\/c\.pem/,
    );
    const file = path.join(import.meta.dirname, "../package.json");
    expect(load({ ...mtls, SERVER_API_MTLS_CERT: file }).apiMtls).toMatchObject({ cert: file });
  });
});

describe("loadConfig: ALLOWED_ORIGINS", () => {
  it("keeps each origin as a browser sends it in Origin", () => {
    const config = load({ ALLOWED_ORIGINS: " https://Shop.Example:443/ ,http://localhost:3001, https://shop.example" });
    expect(config.allowedOrigins).toEqual(["https://shop.example", "http://localhost:3001"]);
    expect(load({}).allowedOrigins).toEqual([PUBLIC_URL]);
  });

  it.each(["shop.example", "https://shop.example/app", "*", "ftp://shop.example"])(
    "refuses %s, which no browser sends as an origin, naming it",
    (entry) => {
      expect(() => load({ ALLOWED_ORIGINS: `https://ok.example,${entry}` })).toThrow(
        /ALLOWED_ORIGINS: .* is not an http\(s\) origin/,
      );
    },
  );
});
