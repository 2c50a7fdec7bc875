/** The two servers under test (ours and the bare Socket.IO peer) and the REST triggers sent to them. */
import { randomBytes, randomInt } from "node:crypto";
import { Agent, request } from "node:http";
import { signRequestParams } from "../../lib/sdk/node";
import { appServerEnv, createTempDir, startServer, type ServerHandle } from "../server-process";
import { nowMs } from "../ws-client";
import { FANOUT_CHANNEL, FANOUT_EVENT } from "./shared";

// ---------------------------------------------------------------- the servers

export interface ServerUnderTest {
  kind: "ours" | "bare";
  handle: ServerHandle;
  channel: string;
  credentials: { appId: string; key: string; secret: string } | null;
}

export function makeCredentials() {
  return {
    appId: String(randomInt(100_000, 10_000_000)),
    key: randomBytes(10).toString("hex"),
    secret: randomBytes(32).toString("hex"),
  };
}

export async function startOurs(
  credentials: ReturnType<typeof makeCredentials>,
  users: number,
): Promise<ServerUnderTest> {
  const dataDir = await createTempDir("channels");
  const handle = await startServer({
    name: "our server (API_ONLY)",
    script: "server/index.ts",
    isApp: true,
    env: (port) => ({
      ...appServerEnv(port, dataDir, { apiOnly: true }),
      APP_ID: credentials.appId,
      APP_KEY: credentials.key,
      APP_SECRET: credentials.secret,
      PRESENCE_MAX_MEMBERS: String(users + 100),
      RATE_LIMIT_SUBSCRIBE_PER_SOCKET: "1000000",
    }),
  });
  return { kind: "ours", handle, channel: FANOUT_CHANNEL.ours, credentials };
}

export async function startBare(): Promise<ServerUnderTest> {
  const handle = await startServer({
    name: "bare Socket.IO server (BARE_CHANNELS)",
    script: "bench/bare-socket-server.ts",
    env: { BARE_CHANNELS: "1" },
  });
  return { kind: "bare", handle, channel: FANOUT_CHANNEL.bare, credentials: null };
}

// ---------------------------------------------------------------- triggers

export interface TriggerSender {
  /** Sends trigger `seq`; resolves with the time it was written (nowMs) and the HTTP status (0: failed). */
  send(seq: number): Promise<{ sentAt: number; status: number; error?: string }>;
  close(): void;
}

export function createTriggerSender(server: ServerUnderTest, timeoutMs: number): TriggerSender {
  const base = new URL(server.handle.url);
  // Keep-alive; `timeout` below the server's 5 s keep-alive so an idle socket is never reused as it closes.
  const agent = new Agent({ keepAlive: true, maxSockets: 16, timeout: 4000 });
  const { credentials } = server;

  /** The path and query of one trigger: lib/sdk's RealtimeServer.send, minus its own HTTP client. */
  const pathFor = (body: string) => {
    if (!credentials) return "/trigger";
    const eventsPath = `/apps/${credentials.appId}/events`;
    const signed = signRequestParams(credentials, {
      method: "POST",
      path: eventsPath,
      body,
      timestamp: Math.floor(Date.now() / 1000),
    });
    const query = Object.entries(signed)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join("&");
    return `${eventsPath}?${query}`;
  };

  return {
    send(seq) {
      // The body RealtimeServer.trigger sends: {name, data, channels}.
      const body = JSON.stringify({ name: FANOUT_EVENT, data: String(seq), channels: [server.channel] });
      const requestPath = pathFor(body);
      return new Promise((resolve) => {
        let sentAt = 0;
        const req = request(
          {
            agent,
            host: base.hostname,
            port: base.port,
            method: "POST",
            path: requestPath,
            headers: {
              accept: "application/json",
              "content-type": "application/json",
              "content-length": Buffer.byteLength(body),
            },
          },
          (res) => {
            res.resume();
            res.on("error", (err) => resolve({ sentAt, status: 0, error: err.message }));
            res.on("end", () => resolve({ sentAt, status: res.statusCode ?? 0 }));
          },
        );
        req.setTimeout(timeoutMs, () => req.destroy(new Error("trigger timeout")));
        req.on("error", (err) => resolve({ sentAt, status: 0, error: err.message }));
        sentAt = nowMs();
        req.end(body);
      });
    },
    close: () => agent.destroy(),
  };
}
