import type { Config } from "./config";
import type { Logger } from "./logger";
import type { Db } from "./db/client";
import type { LoginWrites } from "./db/login-writes";
import type { Stores } from "./store/types";
import type { SignatureVerifier } from "./crypto/secp256k1";
import type { SigningKey } from "./tokens/keys";
import type { LoginService } from "./login/login-service";
import type { AppSocketServer } from "./realtime/socket-server";
import type { ChannelService } from "./channels/channel-service";
import type { AppCredentials } from "./channels/signing";
import type { AppMetrics } from "./metrics/metrics";
import type { RequestIds } from "./http/request-id";
import type { Availability } from "./availability";
import type { AttestorService } from "./attestor/attestor-service";

/**
 * The one AppContext. Next bundles app/ apart from server/index.ts, so a module-level
 * singleton would exist twice; all state lives here instead, built once by
 * server/app.ts and handed to the API router and the socket handlers. Each consumer
 * takes only the parts it reads (`Pick<AppContext, ...>`).
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
  io: AppSocketServer;
  /** Channel subscriptions and presence of this node's sockets (section 2). */
  channels: ChannelService;
  /** APP_ID, APP_KEY, APP_SECRET of the Pusher-compatible API; the secret is never logged. */
  channelCredentials: AppCredentials;
  /** The Prometheus registry and the hot paths' counters (server/metrics/). */
  metrics: AppMetrics;
  /** Each HTTP request's id (X-Request-Id) and its logger (server/http/request-id.ts). */
  requestIds: RequestIds;
  /** Which dependencies answer, readiness, draining (server/availability.ts). */
  availability: Availability;
  /** The demo attestor (docs/protocol.md section 6); undefined with DEMO_ATTESTOR=false. */
  attestor?: AttestorService;
}
