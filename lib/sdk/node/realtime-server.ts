/*
 * The server side of channels (docs/protocol.md section 2) for Node: trigger events, read
 * channels and presence users, end a user's connections, and sign channel auth for a
 * socket. The wire format is Pusher's, so requests are signed byte for byte like the
 * official `pusher` package's (`createSignedQueryString`, `authorizeChannel`).
 *
 * Rules:
 * - Requests are signed by ./pusher-signing.ts. On the wire each query value is
 *   URL-encoded; the server signs the decoded values.
 * - With `mtls.enabled` the endpoint must be https and every request presents the client
 *   certificate; `cert`, `key` and `ca` take PEM text or a file path.
 * - Every failure is a RealtimeApiError: the server's `{error: {code, message}}` with its
 *   status, `network_error` (status 0) when nothing answered, `invalid_response` when
 *   the answer is not the protocol's. The secret never reaches an error or a header.
 * - Node only (node:http, node:https, node:fs; signing in ./pusher-signing.ts); no server/ imports.
 */
import { readFileSync } from "node:fs";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import {
  CHANNEL_API_PATHS,
  CHANNEL_LIMITS,
  REST_CHANNEL_NAME_PATTERN,
  SOCKET_ID_PATTERN,
  type BatchEvent,
  type ChannelAttributes,
  type ChannelStateResponse,
  type ChannelsResponse,
  type ChannelUsersResponse,
  type PresenceChannelData,
} from "../../protocol/channels";
import { signChannelAuth, signRequestParams, type SigningCredentials } from "./pusher-signing";

export const DEFAULT_TIMEOUT_MS = 10_000;

/** The server's codes, plus `network_error` (no answer) and `invalid_response`. */
export class RealtimeApiError extends Error {
  override name = "RealtimeApiError";
  constructor(
    /** The HTTP status, 0 when there was no answer. */
    readonly status: number,
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface RealtimeMtlsOptions {
  enabled: boolean;
  /** The client certificate: PEM text or a file path. */
  cert?: string;
  /** The client certificate's private key: PEM text or a file path. */
  key?: string;
  /** The CA the server's certificate is checked against: PEM text or a file path. */
  ca?: string;
  /** Check the server's certificate (default true). */
  rejectUnauthorized?: boolean;
}

export interface RealtimeServerOptions {
  /** APP_KEY: public, sent as auth_key and prefixing every channel auth. */
  appKey: string;
  /** The server's origin, e.g. https://auth.example.com or https://127.0.0.1:3443 */
  endpoint: string;
  /** Sent as `Authorization: Bearer <token>`, for a gateway in front of the API. */
  token?: string;
  mtls?: RealtimeMtlsOptions;
  /** Per request, ms (default 10 000). */
  timeoutMs?: number;
  /** Epoch ms; tests move the clock. */
  now?: () => number;
}

export interface TriggerOptions {
  /** This connection does not get the event (the sender's own socket). */
  socketId?: string;
  /** `user_count`, `subscription_count`: counts to return per channel. */
  info?: string;
}

/** One event of a batch; `data` that is not a string is sent as JSON. */
export interface RealtimeBatchEvent extends Omit<BatchEvent, "data"> {
  data: unknown;
}

export interface ChannelAuth {
  auth: string;
  channel_data?: string;
}

/** PEM text as it is (`\n` escapes, as env files carry it, become newlines), or a file's contents. */
export function readPemOrFile(value: string): string {
  if (value.includes("-----BEGIN")) return value.replace(/\\n/g, "\n");
  return readFileSync(value, "utf8");
}

function checkSocketId(socketId: string) {
  if (socketId.length > 64 || !SOCKET_ID_PATTERN.test(socketId))
    throw new TypeError(`Invalid socket id: '${socketId}'`);
}

function checkChannel(channel: string) {
  if (!REST_CHANNEL_NAME_PATTERN.test(channel)) throw new TypeError(`Invalid channel name: '${channel}'`);
}

function toData(data: unknown): string {
  return typeof data === "string" ? data : JSON.stringify(data);
}

function isErrorBody(value: unknown): value is { error: { code: string; message: string } } {
  if (typeof value !== "object" || value === null || !("error" in value)) return false;
  const error = (value as { error: unknown }).error;
  return (
    typeof error === "object" &&
    error !== null &&
    typeof (error as { code?: unknown }).code === "string" &&
    typeof (error as { message?: unknown }).message === "string"
  );
}

export class RealtimeServer {
  private readonly endpoint: URL;
  private readonly agent: HttpsAgent | undefined;
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly credentials: SigningCredentials;

  constructor(
    readonly appId: string,
    appSecret: string,
    private readonly options: RealtimeServerOptions,
  ) {
    if (!appId || !appSecret || !options.appKey) throw new TypeError("appId, appSecret and appKey are required");
    this.credentials = { key: options.appKey, secret: appSecret };
    this.endpoint = new URL(options.endpoint);
    if (this.endpoint.protocol !== "http:" && this.endpoint.protocol !== "https:") {
      throw new TypeError("endpoint must be an http or https URL");
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.now = options.now ?? Date.now;
    const mtls = options.mtls;
    if (mtls?.enabled) {
      if (this.endpoint.protocol !== "https:") throw new TypeError("mtls needs an https endpoint");
      if (!mtls.cert || !mtls.key) throw new TypeError("mtls needs cert and key");
    }
    if (this.endpoint.protocol === "https:") {
      this.agent = new HttpsAgent({
        keepAlive: true,
        ca: mtls?.ca ? readPemOrFile(mtls.ca) : undefined,
        cert: mtls?.enabled && mtls.cert ? readPemOrFile(mtls.cert) : undefined,
        key: mtls?.enabled && mtls.key ? readPemOrFile(mtls.key) : undefined,
        rejectUnauthorized: mtls?.rejectUnauthorized ?? true,
      });
    }
  }

  /** Sends `event` to one channel or up to 100; `data` that is not a string is sent as JSON. */
  async trigger(
    channels: string | string[],
    event: string,
    data: unknown,
    options: TriggerOptions = {},
  ): Promise<ChannelsResponse | Record<string, never>> {
    const list = Array.isArray(channels) ? channels : [channels];
    if (list.length === 0 || list.length > CHANNEL_LIMITS.maxChannelsPerEvent) {
      throw new TypeError(`An event goes to 1 to ${CHANNEL_LIMITS.maxChannelsPerEvent} channels`);
    }
    list.forEach(checkChannel);
    if (options.socketId !== undefined) checkSocketId(options.socketId);
    const body: Record<string, unknown> = { name: event, data: toData(data), channels: list };
    if (options.socketId !== undefined) body.socket_id = options.socketId;
    if (options.info !== undefined) body.info = options.info;
    return this.send("POST", CHANNEL_API_PATHS.events(this.appId), { body });
  }

  /** Up to 10 events in one request, sent whole or not at all. */
  async triggerBatch(events: RealtimeBatchEvent[]): Promise<{ batch: ChannelAttributes[] } | Record<string, never>> {
    const batch = events.map((event) => {
      checkChannel(event.channel);
      if (event.socket_id !== undefined) checkSocketId(event.socket_id);
      return { ...event, data: toData(event.data) };
    });
    return this.send("POST", CHANNEL_API_PATHS.batchEvents(this.appId), { body: { batch } });
  }

  /**
   * The channel auth a socket needs to subscribe: with `userData` (presence) the
   * channel_data is `JSON.stringify(userData)`, signed as that exact string.
   */
  authenticate(socketId: string, channelName: string, userData?: PresenceChannelData): ChannelAuth {
    checkSocketId(socketId);
    checkChannel(channelName);
    if (userData === undefined) return { auth: signChannelAuth(this.credentials, socketId, channelName) };
    const channelData = JSON.stringify(userData);
    return { auth: signChannelAuth(this.credentials, socketId, channelName, channelData), channel_data: channelData };
  }

  /** Occupied channels; `info: "user_count"` needs a `presence-` prefix. */
  async channels(options: { filterByPrefix?: string; info?: string } = {}): Promise<ChannelsResponse> {
    const params: Record<string, string> = {};
    if (options.filterByPrefix !== undefined) params.filter_by_prefix = options.filterByPrefix;
    if (options.info !== undefined) params.info = options.info;
    return this.send("GET", CHANNEL_API_PATHS.channels(this.appId), { params });
  }

  /** One channel: occupied, and the counts asked for in `info`. */
  async channel(channelName: string, options: { info?: string } = {}): Promise<ChannelStateResponse> {
    checkChannel(channelName);
    const params: Record<string, string> = options.info === undefined ? {} : { info: options.info };
    return this.send("GET", CHANNEL_API_PATHS.channel(this.appId, channelName), { params });
  }

  /** The members of a presence channel. */
  async channelUsers(channelName: string): Promise<ChannelUsersResponse> {
    checkChannel(channelName);
    return this.send("GET", CHANNEL_API_PATHS.channelUsers(this.appId, channelName));
  }

  /** Disconnects every connection of the user, on every node. */
  async terminateUserConnections(userId: string): Promise<void> {
    if (userId.length === 0 || userId.length > CHANNEL_LIMITS.maxUserIdLength) {
      throw new TypeError("Invalid user id");
    }
    await this.send("POST", CHANNEL_API_PATHS.terminateConnections(this.appId, userId), { body: {} });
  }

  /** Frees the keep-alive sockets of an https endpoint. */
  close(): void {
    this.agent?.destroy();
  }

  private async send<T>(
    method: "GET" | "POST",
    path: string,
    request: { params?: Record<string, string>; body?: unknown } = {},
  ): Promise<T> {
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const signed = signRequestParams(this.credentials, {
      method,
      path,
      params: request.params,
      body,
      timestamp: Math.floor(this.now() / 1000),
    });
    const query = Object.entries(signed)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
      .join("&");
    const url = new URL(`${path}?${query}`, this.endpoint);
    const headers: Record<string, string> = { accept: "application/json" };
    if (body !== undefined) {
      headers["content-type"] = "application/json";
      headers["content-length"] = String(Buffer.byteLength(body, "utf8"));
    }
    if (this.options.token) headers.authorization = `Bearer ${this.options.token}`;

    const { status, text } = await this.exchange(url, method, headers, body);
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch (err) {
      throw new RealtimeApiError(status, "invalid_response", `The server answered ${status} with a non-JSON body`, {
        cause: err,
      });
    }
    if (status >= 200 && status < 300) return parsed as T;
    if (isErrorBody(parsed)) throw new RealtimeApiError(status, parsed.error.code, parsed.error.message);
    throw new RealtimeApiError(status, "invalid_response", `The server answered ${status} without an error body`);
  }

  private exchange(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; text: string }> {
    return new Promise((resolve, reject) => {
      const fail = (err: unknown) =>
        reject(
          err instanceof RealtimeApiError
            ? err
            : new RealtimeApiError(0, "network_error", `No answer from ${url.origin}: ${describeError(err)}`, {
                cause: err,
              }),
        );
      const onResponse = (response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("error", fail);
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString("utf8") }),
        );
      };
      const options = { method, headers, timeout: this.timeoutMs };
      const req =
        url.protocol === "https:"
          ? httpsRequest(url, { ...options, agent: this.agent }, onResponse)
          : httpRequest(url, options, onResponse);
      req.on("timeout", () =>
        req.destroy(new RealtimeApiError(0, "network_error", `No answer from ${url.origin} in ${this.timeoutMs} ms`)),
      );
      req.on("error", fail);
      req.end(body);
    });
  }
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === "string" ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}
