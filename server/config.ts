import fs from "node:fs";
import path from "node:path";
import { z } from "zod";
import { appIdSchema, appKeySchema, appSecretSchema } from "./channels/credentials";
import { publicKeyFromJwk, type Secp256k1PublicJwk } from "../lib/claims/es256k";
import { toChecksumAddress } from "../lib/protocol/siwe";
import { MATCH_MODES, type MatchMode } from "../lib/protocol/login";
import { createProxyTrust, LOOPBACK_PROXIES, parseProxyList, ProxyListError, type ProxyTrust } from "./http/client-ip";

/**
 * The one reader of process.env. Every variable is documented in .env.example;
 * a bad value stops the process with a readable message before anything starts.
 *
 * Defaults fail closed: NODE_ENV is production unless set (`npm run dev` sets development),
 * so a server started any other way gets neither Next's dev mode nor the development
 * attestor, and production refuses to start without PUBLIC_URL (a wrong origin in tokens
 * and QR codes is worse than not starting). The server reads the environment only; the
 * npm scripts add a `.env` file when there is one (node --env-file-if-exists=.env).
 */
const bool = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1")
  .optional();
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

const envSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("production"),
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default("0.0.0.0"),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  ALLOWED_ORIGINS: z.string().optional(),
  DATA_DIR: z.string().min(1).default(".data"),
  DATABASE_URL: z
    .string()
    .regex(/^(file:|postgres(ql)?:\/\/)/, "must start with file: (SQLite) or postgresql://")
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must start with redis:// or rediss://")
    .optional(),
  REDIS_PREFIX: z.string().max(64).default("wl:"),
  APP_NAME: z.string().min(1).max(100).default("Wallet Login"),
  LOGIN_TTL_SECONDS: int(10, 3600).default(120),
  CHAIN_ID: int(1, Number.MAX_SAFE_INTEGER).default(1),
  ACCESS_TOKEN_TTL_SECONDS: int(30, 900).default(900),
  REFRESH_TOKEN_TTL_DAYS: int(1, 365).default(30),
  RATE_LIMIT_LOGIN_START_PER_SOCKET: int(1, 1_000_000).default(10),
  RATE_LIMIT_LOGIN_START_PER_IP: int(1, 1_000_000).default(60),
  RATE_LIMIT_AUTH_PER_IP: int(1, 1_000_000).default(120),
  RATE_LIMIT_SUBSCRIBE_PER_SOCKET: int(1, 1_000_000).default(100),
  RATE_LIMIT_ATTESTOR_CHALLENGES_PER_IP: int(1, 1_000_000).default(60),
  RATE_LIMIT_ATTESTOR_REQUESTS_PER_IP: int(1, 1_000_000).default(30),
  APP_ID: appIdSchema.optional(),
  APP_KEY: appKeySchema.optional(),
  APP_SECRET: appSecretSchema.optional(),
  PRESENCE_MAX_MEMBERS: int(1, 100_000).default(100),
  CHANNELS_NODE_TIMEOUT_SECONDS: int(2, 600).default(15),
  TRUST_PROXY: bool,
  TRUSTED_PROXIES: z.string().max(10_000).optional(),
  MAX_APPS_PER_USER: int(1, 100_000).default(20),
  PUSH_CAP_PER_10_MIN: int(1, 1000).default(3),
  PUSH_CAP_PER_HOUR: int(1, 10_000).default(10),
  PUSH_MUTE_SECONDS: int(1, 86_400).default(1200),
  QR_MATCH_MODE: z.enum(MATCH_MODES).default("choose"),
  PUSH_MATCH_MODE: z.enum(MATCH_MODES).default("type"),
  MAX_SOCKETS_PER_IP: int(1, 10_000_000).default(200),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
  CRYPTO_BACKEND: z.enum(["auto", "native", "js"]).default("auto"),
  API_ONLY: bool,
  SQLITE_WRITER_THREAD: bool,
  TRUSTED_ATTESTORS: z.string().max(100_000).optional(),
  STATUS_LIST_TTL_SECONDS: int(1, 86_400).default(60),
  // Its default depends on NODE_ENV.
  DEV_ATTESTOR: bool,
  ADMIN_ADDRESSES: z.string().max(10_000).optional(),
  DEMO_ATTESTOR: bool,
  METRICS_TOKEN: z
    .string()
    .min(16, "must be at least 16 characters")
    .max(512)
    .regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces")
    .optional(),
  METRICS_PORT: int(0, 65535).optional(),
  METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  SERVER_API_MTLS_PORT: int(0, 65535).optional(),
  SERVER_API_MTLS_CERT: z.string().optional(),
  SERVER_API_MTLS_KEY: z.string().optional(),
  SERVER_API_MTLS_CA: z.string().optional(),
});

/** Every variable loadConfig reads: harnesses that spawn servers keep these out of a child's inherited environment. */
export const CONFIG_ENV_KEYS: readonly string[] = Object.keys(envSchema.shape);

export interface Config {
  env: "development" | "production" | "test";
  isDev: boolean;
  port: number;
  host: string;
  /** Origin the QR codes point at, without a trailing slash. */
  publicUrl: string;
  /** host[:port] of publicUrl: the EIP-4361 domain. */
  domain: string;
  allowedOrigins: string[];
  dataDir: string;
  databaseUrl: string;
  databaseProvider: "sqlite" | "postgresql";
  redisUrl: string | undefined;
  redisPrefix: string;
  appName: string;
  loginTtlMs: number;
  chainId: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlMs: number;
  rateLimits: {
    loginStartPerSocket: number;
    loginStartPerIp: number;
    authPerIp: number;
    subscribePerSocket: number;
    /** POST /api/attestor/challenges and POST /api/attestor/requests per client IP (section 6.6). */
    attestorChallengesPerIp: number;
    attestorRequestsPerIp: number;
    windowMs: number;
  };
  /** Channels and presence (docs/protocol.md section 2). Unset credentials come from DATA_DIR. */
  channels: {
    appId?: string;
    appKey?: string;
    appSecret?: string;
    presenceMaxMembers: number;
    /** A node that has not renewed its lease for this long is dead; its members are removed. */
    nodeTimeoutMs: number;
  };
  /**
   * The reverse proxies whose X-Forwarded-For is read (server/http/client-ip.ts): TRUSTED_PROXIES,
   * plus loopback when TRUST_PROXY=true. Empty: the socket's peer is the client.
   */
  trustedProxies: ProxyTrust;
  /** Partner apps one user may register through the API (the CLI is not capped). */
  maxAppsPerUser: number;
  /** Push login (section 5): pushes per address per 10 minutes and per hour, and the mute after "This wasn't me". */
  push: { capPer10Min: number; capPerHour: number; muteMs: number };
  /** How the person matches the page's code (QR_MATCH_MODE, PUSH_MATCH_MODE): pick it or type it. */
  matchModes: { qr: MatchMode; push: MatchMode };
  /** Open Socket.IO connections from one client IP, across every node. */
  maxSocketsPerIp: number;
  logLevel: string;
  cryptoBackend: "auto" | "native" | "js";
  apiOnly: boolean;
  /** SQLite login writes on their own thread (server/db/sqlite-writer.ts); false (the default): on the event loop. */
  sqliteWriterThread: boolean;
  /** Verifiable claims (docs/protocol.md section 4). */
  claims: {
    /** Issuer (`iss`) -> public secp256k1 JWK, from TRUSTED_ATTESTORS. */
    trustedAttestors: ReadonlyMap<string, Secp256k1PublicJwk>;
    /** Trust (and create) the development attestor in DATA_DIR (server/claims/attestors.ts). */
    devAttestor: boolean;
    /** `ttl` (and max-age) of the status lists this server's attestors publish. */
    statusListTtlSeconds: number;
  };
  /** EIP-55 addresses allowed on the admin pages and routes (ADMIN_ADDRESSES); empty: nobody. */
  adminAddresses: ReadonlySet<string>;
  /**
   * The demo attestor (docs/protocol.md section 6), served unless DEMO_ATTESTOR=false: an Attestor
   * record hosted here, its key in DATA_DIR (server/attestor/demo-attestor.ts).
   */
  demoAttestor: boolean;
  /**
   * GET /metrics (server/metrics/): on the main port with `Authorization: Bearer <token>` when
   * a token is set (404 there otherwise), and on a listener of its own at host:port when a port is set.
   */
  metrics: { token?: string; port?: number; host: string };
  /**
   * The server API (`/apps/*`) also over HTTPS with client certificates signed by `ca`
   * required. cert, key and ca are PEM text or file paths. Unset: no mTLS listener.
   */
  apiMtls?: { port: number; cert: string; key: string; ca: string };
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

export interface LoadConfigOptions {
  /**
   * Refuse production without PUBLIC_URL (default true). False only for tools that serve
   * nothing and point no one anywhere (scripts/app-cli.ts opens the database).
   */
  isPublicUrlRequired?: boolean;
}

export function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  options: LoadConfigOptions = {},
): Config {
  // An empty value (`DATABASE_URL=` in a .env copied from .env.example) counts as unset: its default.
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  const parsed = envSchema.safeParse(set);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid configuration (see .env.example):\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  if (e.NODE_ENV === "production" && e.PUBLIC_URL === undefined && (options.isPublicUrlRequired ?? true)) {
    throw new ConfigError(
      "Invalid configuration (see .env.example):\n  PUBLIC_URL: required in production (NODE_ENV is production unless set):" +
        " the origin QR codes and tokens point at, e.g. https://login.example.com. For a local server: npm run dev.",
    );
  }
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, "");
  const url = new URL(publicUrl);
  if (url.pathname !== "/" || url.search || url.hash) {
    throw new ConfigError("Invalid configuration (see .env.example):\n  PUBLIC_URL: must be an origin, without path");
  }
  const mtlsFiles = [e.SERVER_API_MTLS_CERT, e.SERVER_API_MTLS_KEY, e.SERVER_API_MTLS_CA];
  if (e.SERVER_API_MTLS_PORT !== undefined && mtlsFiles.some((v) => v === undefined)) {
    throw new ConfigError(
      "Invalid configuration (see .env.example):\n  SERVER_API_MTLS_PORT: needs SERVER_API_MTLS_CERT, SERVER_API_MTLS_KEY and SERVER_API_MTLS_CA",
    );
  }
  if (e.SERVER_API_MTLS_PORT !== undefined) {
    checkPemOrFile("SERVER_API_MTLS_CERT", e.SERVER_API_MTLS_CERT);
    checkPemOrFile("SERVER_API_MTLS_KEY", e.SERVER_API_MTLS_KEY);
    checkPemOrFile("SERVER_API_MTLS_CA", e.SERVER_API_MTLS_CA);
  }
  const trustedAttestors = parseTrustedAttestors(e.TRUSTED_ATTESTORS);
  const trustedProxies = parseTrustedProxies(e.TRUSTED_PROXIES, e.TRUST_PROXY ?? false);
  const dataDir = path.resolve(e.DATA_DIR);
  const databaseUrl = e.DATABASE_URL ?? `file:${path.join(dataDir, "app.db")}`;
  const allowedOrigins = parseAllowedOrigins(e.ALLOWED_ORIGINS ?? url.origin);
  return {
    env: e.NODE_ENV,
    isDev: e.NODE_ENV === "development",
    port: e.PORT,
    host: e.HOST,
    publicUrl: url.origin,
    domain: url.host,
    allowedOrigins,
    dataDir,
    databaseUrl,
    databaseProvider: databaseUrl.startsWith("file:") ? "sqlite" : "postgresql",
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    appName: e.APP_NAME,
    loginTtlMs: e.LOGIN_TTL_SECONDS * 1000,
    chainId: e.CHAIN_ID,
    accessTokenTtlSeconds: e.ACCESS_TOKEN_TTL_SECONDS,
    refreshTokenTtlMs: e.REFRESH_TOKEN_TTL_DAYS * 86_400_000,
    rateLimits: {
      loginStartPerSocket: e.RATE_LIMIT_LOGIN_START_PER_SOCKET,
      loginStartPerIp: e.RATE_LIMIT_LOGIN_START_PER_IP,
      authPerIp: e.RATE_LIMIT_AUTH_PER_IP,
      subscribePerSocket: e.RATE_LIMIT_SUBSCRIBE_PER_SOCKET,
      attestorChallengesPerIp: e.RATE_LIMIT_ATTESTOR_CHALLENGES_PER_IP,
      attestorRequestsPerIp: e.RATE_LIMIT_ATTESTOR_REQUESTS_PER_IP,
      windowMs: 60_000,
    },
    channels: {
      appId: e.APP_ID,
      appKey: e.APP_KEY,
      appSecret: e.APP_SECRET,
      presenceMaxMembers: e.PRESENCE_MAX_MEMBERS,
      nodeTimeoutMs: e.CHANNELS_NODE_TIMEOUT_SECONDS * 1000,
    },
    trustedProxies,
    maxAppsPerUser: e.MAX_APPS_PER_USER,
    push: {
      capPer10Min: e.PUSH_CAP_PER_10_MIN,
      capPerHour: e.PUSH_CAP_PER_HOUR,
      muteMs: e.PUSH_MUTE_SECONDS * 1000,
    },
    matchModes: { qr: e.QR_MATCH_MODE, push: e.PUSH_MATCH_MODE },
    maxSocketsPerIp: e.MAX_SOCKETS_PER_IP,
    logLevel: e.LOG_LEVEL,
    cryptoBackend: e.CRYPTO_BACKEND,
    apiOnly: e.API_ONLY ?? false,
    sqliteWriterThread: e.SQLITE_WRITER_THREAD ?? false,
    metrics: { token: e.METRICS_TOKEN, port: e.METRICS_PORT, host: e.METRICS_HOST },
    claims: {
      trustedAttestors,
      devAttestor: e.DEV_ATTESTOR ?? e.NODE_ENV === "development",
      statusListTtlSeconds: e.STATUS_LIST_TTL_SECONDS,
    },
    adminAddresses: parseAdminAddresses(e.ADMIN_ADDRESSES),
    demoAttestor: e.DEMO_ATTESTOR ?? true,
    apiMtls:
      e.SERVER_API_MTLS_PORT === undefined
        ? undefined
        : {
            port: e.SERVER_API_MTLS_PORT,
            cert: e.SERVER_API_MTLS_CERT ?? "",
            key: e.SERVER_API_MTLS_KEY ?? "",
            ca: e.SERVER_API_MTLS_CA ?? "",
          },
  };
}

/**
 * ALLOWED_ORIGINS: comma-separated http(s) origins, each written as a browser sends it in
 * `Origin` (lowercase host, no default port: `https://Shop.example:443/` is `https://shop.example`).
 */
function parseAllowedOrigins(text: string): string[] {
  const origins: string[] = [];
  for (const item of text.split(",")) {
    const entry = item.trim();
    if (entry === "") continue;
    let parsed: URL | undefined;
    try {
      parsed = new URL(entry);
    } catch {
      parsed = undefined;
    }
    const isOrigin =
      parsed !== undefined &&
      (parsed.protocol === "http:" || parsed.protocol === "https:") &&
      parsed.pathname === "/" &&
      !parsed.search &&
      !parsed.hash &&
      !parsed.username &&
      !parsed.password;
    if (!parsed || !isOrigin) {
      throw new ConfigError(
        `Invalid configuration (see .env.example):\n  ALLOWED_ORIGINS: "${entry.slice(0, 200)}" is not an http(s) origin such as https://shop.example`,
      );
    }
    if (!origins.includes(parsed.origin)) origins.push(parsed.origin);
  }
  return origins;
}

/** PEM text, or the path of a file this process can read (server/http/mtls-server.ts reads it at start). */
function checkPemOrFile(name: string, value: string | undefined): void {
  if (value === undefined || value.includes("-----BEGIN")) return;
  try {
    fs.accessSync(value, fs.constants.R_OK);
  } catch {
    throw new ConfigError(
      `Invalid configuration (see .env.example):\n  ${name}: neither PEM text nor a readable file: ${value.slice(0, 200)}`,
    );
  }
}

/** TRUSTED_PROXIES entries (IPs, CIDRs), plus loopback when TRUST_PROXY=true. */
function parseTrustedProxies(text: string | undefined, trustLoopback: boolean): ProxyTrust {
  const entries = parseProxyList(text ?? "");
  if (trustLoopback) entries.push(...LOOPBACK_PROXIES.filter((entry) => !entries.includes(entry)));
  try {
    return createProxyTrust(entries);
  } catch (err) {
    if (!(err instanceof ProxyListError)) throw err;
    throw new ConfigError(`Invalid configuration (see .env.example):\n  TRUSTED_PROXIES: ${err.message}`);
  }
}

/** `{"<iss>": <public secp256k1 JWK>}` -> a map; a readable ConfigError for anything else. */
function parseTrustedAttestors(text: string | undefined): Map<string, Secp256k1PublicJwk> {
  const trusted = new Map<string, Secp256k1PublicJwk>();
  if (text === undefined) return trusted;
  const fail = (why: string) =>
    new ConfigError(`Invalid configuration (see .env.example):\n  TRUSTED_ATTESTORS: ${why}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw fail('must be JSON: {"<issuer>": {"kty":"EC","crv":"secp256k1","x":"...","y":"..."}}');
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw fail("must be a JSON object of issuer -> public JWK");
  }
  for (const [iss, jwk] of Object.entries(parsed)) {
    if (iss.length === 0 || iss.length > 512) throw fail("an issuer name must be 1-512 characters");
    if (typeof jwk === "object" && jwk !== null && "d" in jwk) {
      throw fail(`the key of ${iss} holds a private part (d); give only the public JWK`);
    }
    if (!publicKeyFromJwk(jwk)) throw fail(`the key of ${iss} is not a public secp256k1 JWK on the curve`);
    const { x, y } = jwk as Secp256k1PublicJwk;
    trusted.set(iss, { kty: "EC", crv: "secp256k1", x, y });
  }
  return trusted;
}

/** ADMIN_ADDRESSES: comma-separated 0x addresses, kept EIP-55 checksummed. */
function parseAdminAddresses(text: string | undefined): Set<string> {
  const admins = new Set<string>();
  for (const item of (text ?? "").split(",")) {
    const address = item.trim();
    if (address === "") continue;
    try {
      admins.add(toChecksumAddress(address));
    } catch {
      throw new ConfigError(
        `Invalid configuration (see .env.example):\n  ADMIN_ADDRESSES: "${address.slice(0, 64)}" is not a 0x address`,
      );
    }
  }
  return admins;
}
