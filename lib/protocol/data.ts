/**
 * Signed data fetches (docs/protocol.md section 3): the wire types and limits shared by the
 * server, the data client SDK and the partners page. The zod schemas are in
 * data-schemas.ts, so browser bundles that need only these never pull zod in.
 *
 * `POST /api/data/{resource}` with `{message, fyresign, messageHash?}`. The signed
 * text is `message` itself when it is a string, else `JSON.stringify(message)` of the
 * object as received. Re-stringifying the parsed object gives back exactly the text
 * the sender's `JSON.stringify` produced (same key order, same number and string
 * forms, no whitespace), so a sender that signs `JSON.stringify(message)` and sends
 * `message` as an object is verified; a sender that serialises any other way (other
 * key order, spaces, pretty printing) sends the signed text as the string instead.
 */

export const DATA_RESOURCES = ["users", "logins"] as const;
export type DataResource = (typeof DATA_RESOURCES)[number];

export function isDataResource(value: string): value is DataResource {
  return (DATA_RESOURCES as readonly string[]).includes(value);
}

export const MAX_DATA_BODY_BYTES = 16 * 1024;
/** How far `iat` may be ahead of the server's clock. */
export const DATA_CLOCK_SKEW_SECONDS = 60;
/** The longest `exp - iat` a signed message may ask for. */
export const MAX_DATA_WINDOW_SECONDS = 86_400;
export const DATA_LIMIT_MAX = 100;
/** Used when `metaData` (or its `limit`/`page`) is left out. */
export const DATA_DEFAULT_LIMIT = 20;
export const APP_NAME_MAX_LENGTH = 100;

export const DATA_API_PATHS = {
  data: (resource: string) => `/api/data/${encodeURIComponent(resource)}`,
  apps: "/api/apps",
  disableApp: (appId: string) => `/api/apps/${encodeURIComponent(appId)}/disable`,
  enableApp: (appId: string) => `/api/apps/${encodeURIComponent(appId)}/enable`,
} as const;

export interface DataMetaRequest {
  limit: number;
  page: number;
}

/**
 * What a partner signs. `iat` and `exp` are seconds since the epoch. Any other field
 * (a `nonce`, filters) is signed with the rest; the server ignores fields it does not know.
 */
export interface DataMessage {
  appId: string;
  iat: number;
  exp: number;
  metaData?: Partial<DataMetaRequest>;
  [field: string]: unknown;
}

export interface DataRequestBody {
  message: DataMessage | string;
  /** 0x + 65 bytes (r, s, v): EIP-191 personal_sign of the signed text. */
  fyresign: string;
  /** 0x + 32 bytes: the EIP-191 hash of the signed text; checked when sent. */
  messageHash?: string;
}

export interface DataUser {
  id: string;
  address: string;
  claims: Record<string, unknown>;
  createdAt: string;
  lastLoginAt: string | null;
}

export interface DataLogin {
  id: string;
  userId: string;
  address: string;
  at: string;
  method: string;
  userAgent: string | null;
}

export interface DataItems {
  users: DataUser;
  logins: DataLogin;
}

export interface DataPageMeta {
  page: number;
  limit: number;
  total: number;
  /** ceil(total / limit): 0 when there is nothing. */
  pages: number;
}

export interface DataPage<T> {
  data: T[];
  meta: DataPageMeta;
}

/** A partner app as its owner sees it (`GET /api/apps`). */
export interface AppSummary {
  id: string;
  name: string;
  address: string;
  active: boolean;
  createdAt: string;
  lastUsedAt: string | null;
}

export interface CreateAppBody {
  name: string;
  /** An address the partner already holds the key of; without it the server makes a key pair. */
  address?: string;
}

export interface CreateAppResponse {
  app: AppSummary;
  /** Only when the server made the key pair: shown once, never stored. */
  privateKey?: string;
}

export interface ListAppsResponse {
  apps: AppSummary[];
}

export interface AppResponse {
  app: AppSummary;
}

/** The codes `POST /api/data/{resource}` answers with (and the client's own two). */
export const DATA_ERROR_CODES = [
  "invalid_request",
  "payload_too_large",
  "unknown_app",
  "invalid_signature",
  "expired",
  "invalid_window",
  "replayed",
  "unknown_resource",
  "rate_limited",
  "internal_error",
] as const;
export type DataErrorCode = (typeof DATA_ERROR_CODES)[number];
