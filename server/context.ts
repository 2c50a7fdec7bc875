import type { Config } from "./config";
import type { Logger } from "./logger";
import type { Db } from "./db/client";
import type { LoginWrites } from "./db/login-writes";
import type { Stores } from "./store/types";
import type { SignatureVerifier } from "./crypto/secp256k1";
import type { SigningKey } from "./tokens/keys";
import type { LoginService } from "./login/login-service";
import type { ExpiryTimers } from "./login/expiry-timers";
import type { AppSocketServer } from "./realtime/socket-server";
import type { ChannelService } from "./channels/channel-service";
import type { AppCredentials } from "./channels/signing";

/**
 * The one AppContext. Next bundles app/ apart from server/index.ts, so a module-level
 * singleton would exist twice; all state lives here instead, built once by
 * server/app.ts and handed to the API router, the socket handlers and Next's pages.
 */
export interface AppContext {
  config: Config;
  log: Logger;
  db: Db;
  /** The login hot path's writes (prepared statements on SQLite). */
  loginWrites: LoginWrites;
  stores: Stores;
  verifier: SignatureVerifier;
  signingKey: SigningKey;
  login: LoginService;
  expiryTimers: ExpiryTimers;
  io: AppSocketServer;
  /** Channel subscriptions and presence of this node's sockets (section 2). */
  channels: ChannelService;
  /** APP_ID, APP_KEY, APP_SECRET of the Pusher-compatible API; the secret is never logged. */
  channelCredentials: AppCredentials;
}

const CONTEXT_KEY = Symbol.for("wallet-login.app-context");
type Holder = { [CONTEXT_KEY]?: AppContext };

export function publishAppContext(ctx: AppContext | undefined): void {
  (globalThis as Holder)[CONTEXT_KEY] = ctx;
}

/** For Next's pages and route handlers, which run in the same process. */
export function getAppContext(): AppContext {
  const ctx = (globalThis as Holder)[CONTEXT_KEY];
  if (!ctx) throw new Error("AppContext is not ready: start the app with server/index.ts");
  return ctx;
}
