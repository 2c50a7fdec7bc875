/** Login session states (docs/protocol.md section 1). No state is left once ended. */
export const LOGIN_STATES = [
  "pending",
  "scanned",
  "fetched",
  "approved",
  "redeemed",
  "denied",
  "cancelled",
  "expired",
  "suspended",
] as const;
export type LoginState = (typeof LOGIN_STATES)[number];
export const MAX_AUTH_BODY_BYTES = 16 * 1024;

export const OPEN_STATES: readonly LoginState[] = ["pending", "scanned", "fetched"];
export const ENDED_STATES: readonly LoginState[] = ["redeemed", "denied", "cancelled", "expired", "suspended"];

export const SOCKET_EVENTS = {
  connectionEstablished: "connection:established",
  loginStart: "login:start",
  loginResume: "login:resume",
  loginCancel: "login:cancel",
  loginState: "login:state",
} as const;

/** The wallet's answer (`POST /api/auth`). */
export interface AuthBody {
  sessionId: string;
  message: string;
  signature: string;
  matchCode: string;
  presentation?: string;
}

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

/** The EIP-4361 fields a wallet signs for, in a QR request and in a push request alike. */
export interface SignInRequestFields {
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
}

/**
 * How the person matches the page's two-digit code (QR_MATCH_MODE, PUSH_MATCH_MODE): `choose` picks
 * it among `matchChoices`, `type` types it (then `matchChoices` is empty). Either way the wallet
 * sends the code as `matchCode`, and a wrong one ends the session (`wrong_match_code`).
 */
export const MATCH_MODES = ["choose", "type"] as const;
export type MatchMode = (typeof MATCH_MODES)[number];

/** What the wallet receives from `GET /api/login/requests/{sessionId}`. */
export interface LoginRequest extends SignInRequestFields {
  responseUri: string;
  matchMode: MatchMode;
  /** Three codes, one the page's, in `choose` mode; empty in `type` mode. */
  matchChoices: string[];
  requiredClaims: string[];
}

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
