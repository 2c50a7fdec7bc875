/**
 * Push login to a paired wallet (docs/protocol.md section 5): wire types, zod schemas and the
 * exact texts a device signs. Shared by the server, the wallet (lib/wallet/push.ts) and clients.
 */
import { z } from "zod";
import type { LoginState, MatchMode, SignInRequestFields } from "./login";
import { matchCodeSchema, sessionIdSchema } from "./login-schemas";

export const CHALLENGE_TTL_MS = 120_000;
export const MAX_DEVICES_PER_USER = 10;
export const DEFAULT_DEVICE_NAME = "Wallet";

const base64url22 = z.string().regex(/^[A-Za-z0-9_-]{22}$/);
export const challengeIdSchema = base64url22;
export const addressSchema = z.string().regex(/^0x[0-9a-fA-F]{40}$/);
export const deviceIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
export const deviceNameSchema = z.string().trim().min(1).max(64);
const signatureSchema = z.string().regex(/^0x[0-9a-fA-F]{130}$/);

export const pairChallengeBodySchema = z.strictObject({ address: addressSchema });
export const pairBodySchema = z.strictObject({
  challengeId: challengeIdSchema,
  signature: signatureSchema,
  name: deviceNameSchema.optional(),
});
export const renameDeviceBodySchema = z.strictObject({ name: deviceNameSchema });
export const deviceChallengeSchema = z.strictObject({ deviceId: deviceIdSchema });
export const deviceAuthSchema = z.strictObject({ challengeId: challengeIdSchema, signature: signatureSchema });
export const loginPushSchema = z.strictObject({ address: addressSchema });
export const pushOpenSchema = z.strictObject({ sessionId: sessionIdSchema });
export const pushApproveSchema = z.strictObject({
  sessionId: sessionIdSchema,
  message: z.string().min(1).max(8192),
  signature: signatureSchema,
  matchCode: matchCodeSchema,
});
export const pushDenySchema = z.strictObject({ sessionId: sessionIdSchema, notMe: z.boolean().optional() });

export interface DeviceView {
  id: string;
  address: string;
  name: string;
  createdAt: string;
  lastSeenAt: string | null;
}

export interface ChallengeView {
  challengeId: string;
  message: string;
  expiresAt: string;
}

export interface PushContext {
  origin: string | null;
  browser: string;
  os: string;
  ip: string | null;
  ipMatches: boolean;
  time: string;
}

/** What a device shows and signs (section 5.2). */
export interface PushRequest extends SignInRequestFields {
  address: string;
  /** PUSH_MATCH_MODE, `type` by default: as LoginRequest's. */
  matchMode: MatchMode;
  /** In `choose` mode only: the three codes to pick from. */
  matchChoices?: string[];
  context: PushContext;
}

export interface PushClosedEvent {
  sessionId: string;
  state: LoginState;
  reason?: string;
}

export interface SecurityEventView {
  id: string;
  kind: string;
  deviceId: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  createdAt: string;
}

/** The text a wallet signs to pair (POST /api/devices/challenge). */
export function formatPairingMessage(input: {
  domain: string;
  address: string;
  challengeId: string;
  issuedAt: string;
}) {
  return `${input.domain} asks to pair this wallet as a device:\n${input.address}\n\nChallenge: ${input.challengeId}\nIssued At: ${input.issuedAt}`;
}

/** The text a paired device signs to authenticate its socket (device:challenge). */
export function formatDeviceAuthMessage(input: {
  domain: string;
  address: string;
  deviceId: string;
  challengeId: string;
  issuedAt: string;
}) {
  return `${input.domain} asks this device to connect:\n${input.address}\n\nDevice: ${input.deviceId}\nChallenge: ${input.challengeId}\nIssued At: ${input.issuedAt}`;
}

/** Ack of `login:push`: a login session of section 1 without a QR (section 5.3). */
export interface StartedPushSession {
  sessionId: string;
  state: "pending";
  expiresAt: string;
  matchCode: string;
  browserSecret: string;
}

/** The socket events of section 5, by name (listed in docs/protocol.md, see socket-events.ts). */
export const PUSH_SOCKET_EVENTS = {
  loginPush: "login:push",
  deviceChallenge: "device:challenge",
  deviceAuth: "device:auth",
  pushRequest: "push:request",
  pushOpen: "push:open",
  pushApprove: "push:approve",
  pushDeny: "push:deny",
  pushClosed: "push:closed",
} as const;

type PushAck<T> = (res: ({ ok: true } & T) | { ok: false; error: { code: string; message: string } }) => void;

/** Socket.IO events of section 5 (merged into the server's one event map, socket-events.ts). */
export interface PushClientToServerEvents {
  "login:push": (payload: { address: string }, ack: PushAck<{ session: StartedPushSession }>) => void;
  "device:challenge": (payload: { deviceId: string }, ack: PushAck<ChallengeView>) => void;
  "device:auth": (payload: { challengeId: string; signature: string }, ack: PushAck<{ device: DeviceView }>) => void;
  "push:open": (payload: { sessionId: string }, ack: PushAck<{ request: PushRequest }>) => void;
  "push:approve": (
    payload: { sessionId: string; message: string; signature: string; matchCode: string },
    ack: PushAck<{ state: "approved" }>,
  ) => void;
  "push:deny": (payload: { sessionId: string; notMe?: boolean }, ack: PushAck<{ state: "denied" }>) => void;
}
export interface PushServerToClientEvents {
  "push:request": (payload: { sessionId: string; request: PushRequest }) => void;
  "push:closed": (payload: PushClosedEvent) => void;
}
