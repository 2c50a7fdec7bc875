import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { EventEmitter } from "node:events";
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { Config } from "./config";
import { createLogger, type Logger } from "./logger";
import type { AppContext } from "./context";
import { migrateDatabase } from "./db/migrate";
import { createDb } from "./db/client";
import { createLoginWrites } from "./db/login-writes";
import { createStores } from "./store";
import { createSignatureVerifier } from "./crypto/secp256k1";
import { keccakBackend } from "./crypto/keccak";
import { loadOrCreateSigningKey } from "./tokens/keys";
import { createLoginService } from "./login/login-service";
import { createExpiryTimers } from "./login/expiry-timers";
import { createSocketServer } from "./realtime/socket-server";
import { registerLoginHandlers } from "./realtime/login-handlers";
import { closeForgottenPushes, emitPushClosed, registerPushHandlers } from "./realtime/push-handlers";
import { registerChannelHandlers } from "./realtime/channel-handlers";
import { emitLoginState, emitPresenceNotice } from "./realtime/emit";
import { createChannelService } from "./channels/channel-service";
import { registerConnectionLimit } from "./realtime/connection-limit";
import { loadOrCreateAppCredentials } from "./channels/credentials";
import { CHANNEL_LIMITS, PRESENCE_CHANNEL_PREFIX } from "../lib/protocol/channels";
import { createApiListener, isApiPath } from "./http/router";
import { errorBody } from "./http/respond";
import { createSecurityHeaders } from "./http/security-headers";
import { isSocketIoPath, normalizeRequestTarget, refuseUpgrade } from "./http/request-target";
import { startMtlsServer } from "./http/mtls-server";
import { loadTrustedAttestors } from "./claims/attestors";
import { createAttestorDirectory } from "./claims/attestor-directory";
import { createStatusListChecker } from "./claims/status-lists";
import { createPresentationVerifier } from "./claims/verify-presentation";
import { createMetrics, type MetricsSources } from "./metrics/metrics";
import { createGuardedMetricsHandler, METRICS_PATH, startMetricsServer } from "./metrics/metrics-endpoint";
import { countChannelDeliveries } from "./metrics/socket-deliveries";
import { createRequestIds } from "./http/request-id";
import { PROBE_TIMEOUT_MS, createAvailability } from "./availability";
import { createDatabaseProbe } from "./db/probe";
import { createDatabaseDeadline, withDatabaseDeadline } from "./db/deadline";
import { loginRoom } from "./realtime/emit";
import { createAttestorService } from "./attestor/attestor-service";
import { ensureDemoAttestor, readDemoAttestorKey } from "./attestor/demo-attestor";
import { allocateStatusIndex, setCredentialStatus } from "./claims/attestor-records";

/** How long a SIGTERM waits for in-flight HTTP requests before cutting them. */
export const DRAIN_TIMEOUT_MS = 5_000;

export interface RunningApp {
  ctx: AppContext;
  /** The address it listens on, e.g. http://127.0.0.1:3000 */
  url: string;
  /** The mTLS listener's address (https://...) when SERVER_API_MTLS_PORT is set. */
  mtlsUrl?: string;
  /** The metrics listener's address (http://...) when METRICS_PORT is set. */
  metricsUrl?: string;
  close(): Promise<void>;
}

export interface StartOptions {
  log?: Logger;
  /** In-flight requests get this long to finish on close() (default DRAIN_TIMEOUT_MS). */
  drainTimeoutMs?: number;
  /** Serve pages with Next (default true); API-only processes skip it. */
  withPages?: boolean;
}

/** config -> db -> stores -> Socket.IO -> API router -> Next -> listen. */
export async function startApp(config: Config, options: StartOptions = {}): Promise<RunningApp> {
  const log = options.log ?? createLogger(config.logLevel);
  const cleanups: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (err) {
        log.warn({ err }, "cleanup failed");
      }
    }
  };
  const requestIds = createRequestIds(log, config.trustedProxies);
  const metrics = createMetrics({ dependencies: config.redisUrl ? ["database", "redis"] : ["database"] });
  try {
    const availability = createAvailability({
      log,
      onFailure: (dependency) => metrics.noteDependencyError(dependency),
    });
    cleanups.push(() => availability.close());
    await mkdir(config.dataDir, { recursive: true, mode: 0o700 });
    await migrateDatabase({ url: config.databaseUrl, log: (msg) => log.info(msg) });
    const database = await createDb({ url: config.databaseUrl });
    cleanups.push(() => database.close());
    const databaseProbe = createDatabaseProbe(config.databaseUrl, database.prisma, PROBE_TIMEOUT_MS);
    cleanups.push(() => databaseProbe.close());
    availability.addProbe({ dependency: "database", check: () => databaseProbe.check() });
    // Opened now, so the first GET /api/ready does not pay for the connection.
    await databaseProbe.check().catch(() => {});
    // Everything below uses this client: on PostgreSQL a database that stops answering fails fast.
    const deadline =
      database.provider === "sqlite"
        ? undefined
        : createDatabaseDeadline({
            isDown: () => availability.isDown("database"),
            probe: () => availability.probe("database"),
          });
    const db = deadline ? withDatabaseDeadline(database.prisma, deadline) : database.prisma;
    const loginWrites = createLoginWrites({
      url: config.databaseUrl,
      prisma: db,
      inThread: !config.sqliteWriterThread,
      onCheckpointerFailure: (err) => log.error({ err }, "WAL checkpointer failed; SQLite checkpoints on commit again"),
      onWriterFailure: (err) => log.error({ err }, "SQLite writer thread failed; login writes run on the main thread"),
      onPostgresConnectionError: (err) => log.warn({ err }, "PostgreSQL connection of the login writes failed"),
      ...(deadline ? { deadline } : {}),
    });
    cleanups.push(() => loginWrites.close());
    log.info({ loginWrites: loginWrites.kind }, `login writes: ${loginWrites.kind}`);
    const onRedisError = (err: Error) => availability.reportDown("redis", err);
    const stores = await createStores({ redisUrl: config.redisUrl, prefix: config.redisPrefix, onRedisError });
    cleanups.push(() => stores.close());
    if (stores.kind === "redis") availability.addProbe({ dependency: "redis", check: () => stores.ping() });
    const verifier = await createSignatureVerifier(config.cryptoBackend);
    log.info(
      { backend: verifier.backend, keccak: keccakBackend },
      `signature recovery: ${verifier.backend === "native" ? "native libsecp256k1" : "pure JS"}, keccak ${keccakBackend}`,
    );
    const signingKey = await loadOrCreateSigningKey(config.dataDir);
    const { source: credentialsSource, ...channelCredentials } = await loadOrCreateAppCredentials(config.dataDir, {
      appId: config.channels.appId,
      key: config.channels.appKey,
      secret: config.channels.appSecret,
    });
    log.info({ appId: channelCredentials.appId, source: credentialsSource }, "channel app credentials ready");
    const attestors = await loadTrustedAttestors({
      dataDir: config.dataDir,
      configured: config.claims.trustedAttestors,
      devAttestor: config.claims.devAttestor,
    });
    // A trusted Attestor record hosted here: logins trust it through the attestor directory.
    const demoAttestor = config.demoAttestor
      ? // Before the server serves, a slow database is waited for, not taken for an outage.
        await ensureDemoAttestor({ db: database.prisma, dataDir: config.dataDir, publicUrl: config.publicUrl })
      : undefined;
    if (config.claims.devAttestor && config.env === "production") {
      log.warn("DEV_ATTESTOR is on in production: anyone with the data folder's dev key can attest any claim");
    }
    log.info({ attestors: [...attestors.keys()] }, "verifiable claims: configured attestors (and trusted records)");
    const attestorDirectory = createAttestorDirectory({
      db,
      configured: attestors,
      publicUrl: config.publicUrl,
    });

    const httpServer = createServer();
    const sockets = await createSocketServer(httpServer, config, log, requestIds.generate, onRedisError);
    cleanups.push(() => sockets.close());
    const io = sockets.io;

    // The timers fire only after `login` below exists.
    const expiryTimers = createExpiryTimers((sessionId) => {
      login.expireIfDue(sessionId).catch((err) => log.warn({ err }, "expiry check failed"));
    });
    cleanups.push(() => expiryTimers.close());
    const login = createLoginService({
      config,
      store: stores.loginSessions,
      verifier,
      presentations: createPresentationVerifier(attestorDirectory, { statusLists: createStatusListChecker() }),
      onClaimsRefused: ({ sessionId, code, reason, requestId }) =>
        log.info({ event: "claims_refused", sessionId, code, reason, requestId }, "verifiable claims refused"),
      notify: (event) => emitLoginState(io, event),
      onPushEnded: (session) => emitPushClosed(io, session),
      onApproved: async ({ address, claims, ip, userAgent, method }) => {
        const user = await loginWrites.recordLogin({
          address,
          ip,
          userAgent,
          method,
          ...(claims ? { claims } : {}),
        });
        return { userId: user.id };
      },
      scheduleExpiry: (sessionId, at) => expiryTimers.schedule(sessionId, at),
      cancelExpiry: (sessionId) => expiryTimers.cancel(sessionId),
      metrics,
      readStoreEpoch: () => stores.readEpoch(),
    });

    // Closes after sockets.close() (which runs first) and before the stores.
    const channels = createChannelService({
      store: stores.presence,
      log,
      nodeTimeoutMs: config.channels.nodeTimeoutMs,
      maxPresenceMembers: config.channels.presenceMaxMembers,
      maxChannelsPerSocket: CHANNEL_LIMITS.maxChannelsPerSocket,
      notify: (notice) => emitPresenceNotice(io, notice),
      // Their clients reconnect by themselves (a transport close, not a server disconnect) and
      // subscribe again, which gives them a fresh presence snapshot.
      onPresenceLost: (socketIds) => {
        const wanted = new Set(socketIds);
        for (const socket of io.of("/").sockets.values()) {
          if (wanted.has(socket.data.socketId)) socket.conn.close();
        }
      },
    });
    await channels.start();
    cleanups.push(() => channels.close());

    Object.assign(metrics.sources, {
      readInfo: () => ({
        stores: stores.kind,
        database: config.databaseProvider,
        crypto: verifier.backend,
        keccak: keccakBackend,
        login_writes: loginWrites.kind,
      }),
      countOpenSockets: () => io.engine.clientsCount,
      isDependencyDown: (dependency) => availability.isDown(dependency),
      countSubscriptions: () => channels.countLocalSubscriptions(),
      countPresenceMembers: async () => {
        const presence = await stores.presence.listChannels(PRESENCE_CHANNEL_PREFIX);
        return presence.reduce((sum, channel) => sum + channel.userCount, 0);
      },
    } satisfies MetricsSources);
    countChannelDeliveries(io, (sockets) => metrics.noteDeliveries(sockets));
    // Redis came back without our records: the browsers of the logins it forgot hear `expired`.
    stores.onReset((epoch) => {
      log.warn({ event: "store_reset", epoch }, "the store came back without its records; ending forgotten logins");
      void channels.runTick();
      const prefix = loginRoom("");
      for (const room of io.of("/").adapter.rooms.keys()) {
        if (!room.startsWith(prefix)) continue;
        login
          .endIfForgotten(room.slice(prefix.length))
          .catch((err: unknown) => log.debug({ err }, "ending a forgotten login failed"));
      }
      closeForgottenPushes(io, login).catch((err: unknown) => log.debug({ err }, "closing forgotten pushes failed"));
    });

    const ctx: AppContext = {
      config,
      log,
      db,
      loginWrites,
      stores,
      verifier,
      signingKey,
      login,
      io,
      channels,
      channelCredentials,
      metrics,
      requestIds,
      availability,
    };
    if (demoAttestor) {
      ctx.attestor = createAttestorService({
        ...ctx,
        iss: demoAttestor.issuer,
        readKey: () => readDemoAttestorKey(db, config.dataDir, demoAttestor.id),
        allocateStatus: ({ attestorId, address, vct, expiresAt }) =>
          allocateStatusIndex(db, {
            attestorId,
            publicUrl: config.publicUrl,
            holderAddress: address,
            vct,
            expiresAt,
          }),
        setCredentialStatus: async (credentialId, status) => {
          await setCredentialStatus(db, credentialId, status);
        },
      });
    }
    registerConnectionLimit(ctx);
    registerLoginHandlers(ctx);
    registerPushHandlers(ctx);
    registerChannelHandlers(ctx);
    const api = createApiListener(ctx);

    const headers = createSecurityHeaders({ isDev: config.isDev, publicUrl: config.publicUrl });
    let pages: (req: IncomingMessage, res: ServerResponse) => Promise<void> | void = (_req, res) => {
      res.writeHead(404, { "content-type": "text/plain" }).end("Pages are not served by this process (API only).\n");
    };
    // Next's development server alone takes upgrades (HMR under /_next/); see ./http/request-target.ts.
    let nextUpgrades: EventEmitter | undefined;
    if (options.withPages ?? true) {
      if (config.isDev) nextUpgrades = new EventEmitter();
      const { default: next } = await import("next");
      const nextApp = next({
        dev: config.isDev,
        dir: process.cwd(),
        hostname: config.domain.split(":")[0],
        port: config.port,
        httpServer: (nextUpgrades ?? new EventEmitter()) as unknown as Server,
      });
      await nextApp.prepare();
      cleanups.push(() => nextApp.close());
      pages = nextApp.getRequestHandler();
    }

    httpServer.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      // engine.io's own upgrade listener takes these.
      if (isSocketIoPath(req.url)) return;
      if (nextUpgrades && req.url?.startsWith("/_next/")) {
        nextUpgrades.emit("upgrade", req, socket, head);
        return;
      }
      // Its answer carries the headers of every answer (docs/protocol.md section 0).
      const refusal: Array<readonly [string, string]> = [];
      const sink = { setHeader: (name: string, value: string) => refusal.push([name, value]) };
      headers.applyToApi(sink);
      requestIds.assign(req, sink);
      refuseUpgrade(socket, refusal);
    });

    const guardedMetrics = createGuardedMetricsHandler(metrics, config.metrics.token, log);
    let inFlight = 0;
    let onIdle: (() => void) | undefined;
    // engine.io answers Socket.IO's paths in its own request listener, ahead of the one below and
    // often at once: this one goes first so its answers carry the headers of every answer
    // (docs/protocol.md section 0: security headers, X-Request-Id).
    httpServer.prependListener("request", (req: IncomingMessage, res: ServerResponse) => {
      if (!isSocketIoPath(req.url)) return;
      headers.applyToApi(res);
      requestIds.assign(req, res);
      if (availability.isDraining) res.setHeader("Connection", "close");
    });
    httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
      inFlight++;
      res.once("close", () => {
        inFlight--;
        if (inFlight === 0) onIdle?.();
      });
      // Draining: this answer is the connection's last (the balancer opens a new one elsewhere).
      if (availability.isDraining && !res.headersSent) res.setHeader("Connection", "close");
      // engine.io's own request listener answers these; answering again would throw.
      if (isSocketIoPath(req.url)) return;
      try {
        requestIds.assign(req, res);
        const target = normalizeRequestTarget(req, config.domain);
        if (!target.ok) {
          headers.applyToApi(res);
          const body = JSON.stringify(errorBody("invalid_request", "This server does not serve that request target."));
          res.writeHead(400, { "content-type": "application/json", connection: "close" }).end(body);
          return;
        }
        const { pathname } = target;
        if (isApiPath(pathname) || pathname === "/api/health") {
          void api(req, res);
          return;
        }
        if (pathname === METRICS_PATH) {
          headers.applyToApi(res);
          guardedMetrics(req, res);
          return;
        }
        headers.applyToPage(req, res);
        Promise.resolve(pages(req, res)).catch((err) => {
          requestIds.logOf(req).error({ err, path: pathname }, "page handler failed");
          if (!res.headersSent) res.writeHead(500).end();
        });
      } catch (err) {
        // Nothing a request does may end the process.
        requestIds.logOf(req).error({ err, method: req.method }, "request listener failed");
        if (!res.headersSent) res.writeHead(500).end();
        else res.destroy();
      }
    });

    await new Promise<void>((resolve, reject) => {
      httpServer.once("error", reject);
      httpServer.listen(config.port, config.host, () => resolve());
    });
    // Runs first on close, the drain: readiness answers 503 at once, the listener stops accepting,
    // requests under way get up to drainTimeoutMs, then io.close() ends the websockets with
    // "transport close" (clients reconnect, to another node if there is one), and only then the
    // channels, stores and database close (the cleanups pushed before this one).
    const drainTimeoutMs = options.drainTimeoutMs ?? DRAIN_TIMEOUT_MS;
    cleanups.push(async () => {
      availability.startDraining();
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      if (inFlight > 0) {
        log.info({ inFlight }, "draining: waiting for requests under way");
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, drainTimeoutMs);
          onIdle = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      await sockets.close();
      httpServer.closeAllConnections();
      await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1_000).unref())]);
    });
    /** The headers every answer carries (docs/protocol.md section 0), for the listeners of their own. */
    const decorateAnswer = (req: IncomingMessage, res: ServerResponse) => {
      requestIds.assign(req, res);
      headers.applyToApi(res);
    };
    let mtlsUrl: string | undefined;
    if (config.apiMtls) {
      const mtls = await startMtlsServer({ ...config.apiMtls, host: config.host }, api, log, decorateAnswer);
      cleanups.push(() => mtls.close());
      mtlsUrl = mtls.url;
      log.info({ url: mtlsUrl }, "server API listening with mTLS");
    }
    let metricsUrl: string | undefined;
    if (config.metrics.port !== undefined) {
      const metricsServer = await startMetricsServer(
        { port: config.metrics.port, host: config.metrics.host },
        metrics,
        log,
        decorateAnswer,
      );
      cleanups.push(() => metricsServer.close());
      metricsUrl = metricsServer.url;
      log.info({ url: metricsUrl }, "metrics listening (GET /metrics)");
    }
    const address = httpServer.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    log.info({ url, publicUrl: config.publicUrl, stores: stores.kind, database: config.databaseProvider }, "listening");
    return { ctx, url, mtlsUrl, metricsUrl, close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
