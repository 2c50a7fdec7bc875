/**
 * A paired wallet's transport for push login (docs/protocol.md section 5), shared by the wallet
 * simulator, the CLI and the tests; the signing is push.ts's.
 *
 * - `pairDevice`: `POST /api/devices/challenge`, sign it (push.ts checks it names the endpoint's
 *   host and this key), `POST /api/devices`.
 * - `connectDevice`: a socket that authenticates as the device by signing a fresh
 *   `device:challenge` on every (re)connect, validates each `push:request` and `push:closed`,
 *   and answers with `open`, `approve` (the typed number) and `deny` (optionally "This wasn't me").
 *   The device id is not a secret: without the key it authenticates nothing.
 * - An unpaired device is told by `device_not_found` (the server also drops its sockets at
 *   once); the connection then stops for good with status `unpaired`.
 */
import { io } from "socket.io-client";
import type { ManagerOptions, Socket, SocketOptions } from "socket.io-client";
import { z } from "zod";
import {
  hasMatchChoicesOfItsMode,
  loginRequestSchema,
  matchCodeSchema,
  sessionIdSchema,
} from "../protocol/login-schemas";
import type { ChallengeView, DeviceView, PushClosedEvent, PushRequest } from "../protocol/push";
import { MATCH_MODES, type LoginState } from "../protocol/login";
import { checkPushRequest, createPushApproval, signDeviceChallenge, signPairingChallenge } from "./push";
import { WalletError } from "./wallet-error";
import type { WalletKey } from "./wallet-key";
import { postJsonOnce, readTypedMatchCode, retryUnavailable, type WalletFetchOptions } from "./wallet-login";

/** How long an event's ack may take before it is `network_error` (generous: the machine may be busy). */
export const DEVICE_ACK_TIMEOUT_MS = 20_000;

const isoTime = z.string().max(64);
const challengeSchema = z.object({
  challengeId: z.string().max(64),
  message: z.string().max(2000),
  expiresAt: isoTime,
});
const deviceSchema = z.object({
  id: z.string().max(64),
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  name: z.string().max(64),
  createdAt: isoTime,
  lastSeenAt: isoTime.nullable(),
});
// A push request is section 1.3's login request without what only a QR answer needs, plus these.
const pushRequestSchema = loginRequestSchema.omit({ responseUri: true, requiredClaims: true }).extend({
  address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
  // A server from before match modes sent only `type` pushes.
  matchMode: z.enum(MATCH_MODES).default("type"),
  matchChoices: z.array(matchCodeSchema).max(3).optional(),
  context: z.object({
    origin: z.string().max(2048).nullable(),
    browser: z.string().max(100),
    os: z.string().max(100),
    ip: z.string().max(64).nullable(),
    ipMatches: z.boolean(),
    time: isoTime,
  }),
});
const validPushRequestSchema = pushRequestSchema.refine(hasMatchChoicesOfItsMode);
const pushEventSchema = z.object({ sessionId: sessionIdSchema, request: validPushRequestSchema });
const closedSchema = z.object({
  sessionId: sessionIdSchema,
  state: z.string().max(32),
  reason: z.string().max(64).optional(),
});
const ackErrorSchema = z.object({ ok: z.literal(false), error: z.object({ code: z.string(), message: z.string() }) });

export type _PushRequestMatches = z.infer<typeof pushRequestSchema> extends PushRequest ? true : never;

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new WalletError("invalid_response", "The server's answer is malformed.");
  return parsed.data;
}

/** The host a wallet expects in the texts it signs for `endpoint` (the server's domain). */
export function domainOf(endpoint: string): string {
  try {
    return new URL(endpoint).host;
  } catch (cause) {
    throw new WalletError("invalid_request", `"${endpoint}" is not an http(s) URL.`, undefined, { cause });
  }
}

export interface PairDeviceInput extends WalletFetchOptions {
  /** The app's origin, e.g. `https://login.example.com`. */
  endpoint: string;
  key: WalletKey;
  /** 1 to 64 characters; the server's default is "Wallet". */
  name?: string;
}

/** Pairs `key` as a device of the user with its address (created if new). */
export async function pairDevice(input: PairDeviceInput): Promise<DeviceView> {
  const base = input.endpoint.replace(/\/+$/, "");
  const domain = domainOf(base);
  // A pairing answered `unavailable` may have used its challenge: each try takes a new one.
  return retryUnavailable(async () => {
    const challenge = parseOrThrow(
      challengeSchema,
      await postJsonOnce(`${base}/api/devices/challenge`, { address: input.key.address }, input),
    );
    const signed = await signPairingChallenge(input.key, challenge, domain);
    const body = input.name === undefined ? signed : { ...signed, name: input.name };
    const answer = parseOrThrow(
      z.object({ device: deviceSchema }),
      await postJsonOnce(`${base}/api/devices`, body, input),
    );
    return answer.device;
  }, input);
}

/** Failures of authentication that pass (a store outage, a lost challenge, no answer): tried again. */
const RETRIED_CODES: ReadonlySet<string> = new Set([
  "network_error",
  "unavailable",
  "internal_error",
  "rate_limited",
  "challenge_not_found",
]);

/** `connecting` until authenticated, `connected` after, `disconnected` between tries, `unpaired` for good. */
export type DeviceStatus = "connecting" | "connected" | "disconnected" | "unpaired" | "closed";

export interface ConnectDeviceOptions {
  endpoint: string;
  key: WalletKey;
  deviceId: string;
  /** Passed to socket.io-client's `io()` over the defaults (path `/socket.io`, websocket only). */
  io?: Partial<ManagerOptions & SocketOptions>;
  /** A `push:request` for this key and site (others are dropped); not yet opened. */
  onRequest?(push: { sessionId: string; request: PushRequest }): void;
  /** A push session ended other than by this device's answer (or also by it: the server tells every device). */
  onClosed?(event: PushClosedEvent): void;
  /**
   * `error` is set when authenticating failed (`unpaired`: `device_not_found` for an unpaired device,
   * or another refusal that retrying cannot mend) or the server cannot be reached (`disconnected`,
   * `network_error`; socket.io-client keeps trying).
   */
  onStatus?(status: DeviceStatus, detail: { device?: DeviceView; error?: WalletError }): void;
}

export interface DeviceConnection {
  /** Resolves on the first authentication; rejects with its WalletError if that fails. */
  readonly ready: Promise<DeviceView>;
  /** Opens a pushed request (`pending` -> `fetched`): the request with `context.ipMatches` for this connection. */
  open(sessionId: string): Promise<PushRequest>;
  /** Signs the request's EIP-4361 message and sends it with the number the person typed (or chose). */
  approve(request: PushRequest, matchCode: string): Promise<{ state: "approved" }>;
  /** Denies; `notMe` answers "This wasn't me" (mutes this device for a while and reports it). */
  deny(sessionId: string, options?: { notMe?: boolean }): Promise<{ state: "denied" }>;
  close(): void;
}

/** Connects and authenticates as the device; reconnects (and authenticates again) until closed or unpaired. */
export function connectDevice(options: ConnectDeviceOptions): DeviceConnection {
  const base = options.endpoint.replace(/\/+$/, "");
  const domain = domainOf(base);
  const socket: Socket = io(new URL(base).origin, { path: "/socket.io", transports: ["websocket"], ...options.io });
  let isOver = false;
  let resolveReady: (device: DeviceView) => void = () => undefined;
  let rejectReady: (error: WalletError) => void = () => undefined;
  const ready = new Promise<DeviceView>((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  // A caller that only watches onStatus must not see an unhandled rejection.
  ready.catch(() => undefined);

  function status(s: DeviceStatus, detail: { device?: DeviceView; error?: WalletError } = {}) {
    options.onStatus?.(s, detail);
  }

  async function call(event: string, payload: unknown): Promise<Record<string, unknown>> {
    let answer: unknown;
    try {
      answer = await socket.timeout(DEVICE_ACK_TIMEOUT_MS).emitWithAck(event, payload);
    } catch (cause) {
      throw new WalletError("network_error", `No answer to ${event} from ${base}.`, undefined, { cause });
    }
    const failed = ackErrorSchema.safeParse(answer);
    if (failed.success) throw new WalletError(failed.data.error.code, failed.data.error.message);
    if (typeof answer !== "object" || answer === null || (answer as { ok?: unknown }).ok !== true) {
      throw new WalletError("invalid_response", `The server's answer to ${event} is malformed.`);
    }
    return answer as Record<string, unknown>;
  }

  async function authenticate() {
    status("connecting");
    try {
      const challenge: ChallengeView = parseOrThrow(
        challengeSchema,
        await call("device:challenge", { deviceId: options.deviceId }),
      );
      const signed = await signDeviceChallenge(options.key, challenge, domain);
      const { device } = parseOrThrow(z.object({ device: deviceSchema }), await call("device:auth", signed));
      if (isOver) return;
      status("connected", { device });
      resolveReady(device);
    } catch (error) {
      const walletError =
        error instanceof WalletError
          ? error
          : new WalletError("invalid_response", String(error), undefined, { cause: error });
      if (isOver) return;
      rejectReady(walletError);
      if (!RETRIED_CODES.has(walletError.code)) {
        // Unpaired, never paired here, or another key's device: nothing to retry.
        isOver = true;
        socket.disconnect();
        status("unpaired", { error: walletError });
      } else {
        status("disconnected", { error: walletError });
        // A store outage or a lost challenge passes: start over on a new connection.
        socket.disconnect();
        setTimeout(() => {
          if (!isOver) socket.connect();
        }, 2_000);
      }
    }
  }

  socket.on("connect", () => void authenticate());
  socket.on("connect_error", (error) => {
    if (isOver) return;
    status("disconnected", {
      error: new WalletError("network_error", `Could not connect to ${base}: ${error.message}`),
    });
    // A refusal by the server's middleware (store away, too many sockets) is not retried by socket.io-client.
    if (!socket.active) {
      setTimeout(() => {
        if (!isOver && !socket.connected) socket.connect();
      }, 2_000);
    }
  });
  socket.on("disconnect", (reason) => {
    if (isOver) return;
    status("disconnected");
    // The server dropping the socket (unpairing does) is not retried by socket.io-client itself:
    // try once more, and device:challenge says whether the device is still paired.
    if (reason === "io server disconnect") socket.connect();
  });
  socket.on("push:request", (payload: unknown) => {
    const parsed = pushEventSchema.safeParse(payload);
    if (!parsed.success) return;
    try {
      checkPushRequest(parsed.data.request, options.key, domain);
    } catch {
      return;
    }
    options.onRequest?.(parsed.data);
  });
  socket.on("push:closed", (payload: unknown) => {
    const parsed = closedSchema.safeParse(payload);
    if (!parsed.success) return;
    const { sessionId, state, reason } = parsed.data;
    options.onClosed?.({ sessionId, state: state as LoginState, ...(reason === undefined ? {} : { reason }) });
  });

  return {
    ready,
    async open(sessionId) {
      const { request } = parseOrThrow(
        z.object({ request: validPushRequestSchema }),
        await call("push:open", { sessionId }),
      );
      if (request.sessionId !== sessionId)
        throw new WalletError("invalid_response", "The server opened another session.");
      checkPushRequest(request, options.key, domain);
      return request;
    },
    async approve(request, matchCode) {
      // Typed or chosen (PUSH_MATCH_MODE=choose), it is two digits; a slip is refused before sending.
      const approval = await createPushApproval({
        key: options.key,
        request,
        matchCode: readTypedMatchCode(matchCode),
      });
      await call("push:approve", approval);
      return { state: "approved" };
    },
    async deny(sessionId, denyOptions = {}) {
      await call("push:deny", { sessionId, ...(denyOptions.notMe ? { notMe: true } : {}) });
      return { state: "denied" };
    },
    close() {
      if (isOver) return;
      isOver = true;
      rejectReady(new WalletError("closed", "The device connection was closed."));
      socket.disconnect();
      status("closed");
    },
  };
}
