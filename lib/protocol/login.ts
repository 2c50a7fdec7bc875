import { z } from "zod";

/** Login session states (PROTOCOL.md section 1). No state is left once ended. */
export const LOGIN_STATES = [
  "pending",
  "scanned",
  "approved",
  "redeemed",
  "denied",
  "cancelled",
  "expired",
  "suspended",
] as const;
export type LoginState = (typeof LOGIN_STATES)[number];
export const OPEN_STATES: readonly LoginState[] = ["pending", "scanned"];
export const ENDED_STATES: readonly LoginState[] = ["redeemed", "denied", "cancelled", "expired", "suspended"];

export const SOCKET_EVENTS = {
  connectionEstablished: "connection:established",
  loginStart: "login:start",
  loginResume: "login:resume",
  loginCancel: "login:cancel",
  loginState: "login:state",
} as const;

const base64url = (bytes: number) => z.string().regex(new RegExp(`^[A-Za-z0-9_-]{${Math.ceil((bytes * 4) / 3)}}$`));
export const sessionIdSchema = base64url(16);
export const browserSecretSchema = base64url(32);
export const oneTimeCodeSchema = base64url(32);
export const matchCodeSchema = z.string().regex(/^[1-9][0-9]$/);
export const claimNameSchema = z.string().regex(/^[A-Za-z0-9_.:-]{1,64}$/);

export const loginStartSchema = z
  .strictObject({ requiredClaims: z.array(claimNameSchema).max(16).optional() })
  .optional();
export const loginResumeSchema = z.strictObject({ sessionId: sessionIdSchema, browserSecret: browserSecretSchema });
export const loginCancelSchema = loginResumeSchema;

export const MAX_AUTH_BODY_BYTES = 16 * 1024;
export const authBodySchema = z.strictObject({
  sessionId: sessionIdSchema,
  message: z.string().min(1).max(8192),
  signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/),
  matchCode: matchCodeSchema,
  presentation: z.string().max(12_000).optional(),
});
export const denyBodySchema = z.strictObject({ sessionId: sessionIdSchema });
export const redeemBodySchema = z.strictObject({
  sessionId: sessionIdSchema,
  browserSecret: browserSecretSchema,
  code: oneTimeCodeSchema,
});

export type AuthBody = z.infer<typeof authBodySchema>;

/** Ack of `login:start`. */
export interface StartedSession {
  sessionId: string;
  requestUri: string;
  qr: string;
  state: "pending";
  expiresAt: string;
  matchCode: string;
  browserSecret: string;
}

/** Ack of `login:resume` and body of the polling endpoint. */
export interface SessionStatus {
  sessionId: string;
  state: LoginState;
  expiresAt: string;
  code?: string;
  reason?: string;
}

export interface LoginStateEvent {
  sessionId: string;
  state: LoginState;
  reason?: string;
  code?: string;
}

/** What the wallet receives from `GET /api/login/requests/{sessionId}`. */
export interface LoginRequest {
  sessionId: string;
  appName: string;
  domain: string;
  uri: string;
  version: "1";
  chainId: number;
  nonce: string;
  issuedAt: string;
  expirationTime: string;
  statement: string;
  requestId: string;
  responseUri: string;
  matchChoices: string[];
  requiredClaims: string[];
}

export const loginRequestSchema = z.object({
  sessionId: sessionIdSchema,
  appName: z.string().max(200),
  domain: z.string().min(1).max(255),
  uri: z.string().url().max(2048),
  version: z.literal("1"),
  chainId: z.number().int().positive(),
  nonce: z.string().regex(/^[A-Za-z0-9]{8,64}$/),
  issuedAt: z.string(),
  expirationTime: z.string(),
  statement: z.string().max(1000),
  requestId: z.string().max(200),
  responseUri: z.string().url().max(2048),
  matchChoices: z.array(matchCodeSchema).length(3),
  requiredClaims: z.array(z.string()).max(16),
});

export interface PublicUser {
  id: string;
  address: string;
  claims: Record<string, unknown>;
}

export interface RedeemResponse {
  accessToken: string;
  tokenType: "Bearer";
  expiresIn: number;
  user: PublicUser;
}

export interface MeResponse {
  user: PublicUser & { createdAt: string; lastLoginAt: string | null };
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: { code: string; message: string } };

/** Socket.IO event maps, shared by the server and every client. */
export interface ServerToClientEvents {
  "connection:established": (payload: { socket_id: string }) => void;
  "login:state": (payload: LoginStateEvent) => void;
}
export interface ClientToServerEvents {
  "login:start": (
    payload: { requiredClaims?: string[] } | undefined,
    ack: (res: Ack<{ session: StartedSession }>) => void,
  ) => void;
  "login:resume": (
    payload: { sessionId: string; browserSecret: string },
    ack: (res: Ack<{ session: SessionStatus }>) => void,
  ) => void;
  "login:cancel": (payload: { sessionId: string; browserSecret: string }, ack: (res: Ack<object>) => void) => void;
}

export const API_PATHS = {
  health: "/api/health",
  loginRequest: (sessionId: string) => `/api/login/requests/${encodeURIComponent(sessionId)}`,
  loginSession: (sessionId: string) => `/api/login/sessions/${encodeURIComponent(sessionId)}`,
  auth: "/api/auth",
  deny: "/api/auth/deny",
  redeem: "/api/auth/redeem",
  refresh: "/api/auth/refresh",
  logout: "/api/auth/logout",
  me: "/api/me",
  jwks: "/.well-known/jwks.json",
} as const;
