/** Error codes of docs/protocol.md, with the HTTP status each is answered with. */
export const ERROR_STATUS = {
  invalid_request: 400,
  payload_too_large: 413,
  not_found: 404,
  session_not_found: 401,
  session_expired: 401,
  session_closed: 401,
  nonce_mismatch: 401,
  domain_mismatch: 401,
  field_mismatch: 401,
  wrong_match_code: 401,
  invalid_signature: 401,
  claims_missing: 401,
  claims_invalid: 401,
  invalid_code: 401,
  invalid_token: 401,
  forbidden: 403,
  rate_limited: 429,
  origin_not_allowed: 403,
  internal_error: 500,
  unknown_app: 401,
  expired: 401,
  invalid_window: 401,
  replayed: 401,
  unknown_resource: 404,
  // Channels (section 2)
  invalid_socket_id: 400,
  invalid_channel: 400,
  invalid_channel_data: 400,
  invalid_auth: 401,
  invalid_timestamp: 401,
  body_md5_mismatch: 401,
  app_not_found: 404,
  data_too_large: 413,
  too_many_channels: 400,
  batch_too_large: 400,
  presence_only: 400,
  over_capacity: 403,
  unavailable: 503,
  too_many_apps: 403,
  too_many_connections: 429,
  // Push login (section 5)
  challenge_not_found: 401,
  device_not_found: 401,
  device_not_authenticated: 401,
  too_many_devices: 403,
  // Attestor (section 6)
  claim_refused: 403,
  request_decided: 409,
  attestor_not_hosted: 409,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export interface ProtocolError {
  code: ErrorCode;
  message: string;
}

/** Human text for each code; servers send it, the widget may show its own. */
export const ERROR_MESSAGES: Record<ErrorCode, string> = {
  invalid_request: "The request is malformed.",
  payload_too_large: "The request body is too large.",
  not_found: "Not found.",
  session_not_found: "This login session does not exist.",
  session_expired: "This login session has expired.",
  session_closed: "This login session is already closed.",
  nonce_mismatch: "The signed message carries the wrong nonce.",
  domain_mismatch: "The signed message is for another domain.",
  field_mismatch: "The signed message does not match the login request.",
  wrong_match_code: "The wrong match code was chosen.",
  invalid_signature: "The signature does not match the message's address.",
  claims_missing: "Required claims were not presented.",
  claims_invalid: "The presented claims are not valid.",
  invalid_code: "The code is invalid or already used.",
  invalid_token: "The token is missing, malformed, expired or badly signed.",
  forbidden: "Not allowed.",
  rate_limited: "Too many requests; try again later.",
  origin_not_allowed: "This origin is not allowed.",
  internal_error: "Something went wrong on the server.",
  unknown_app: "The app is unknown or disabled.",
  expired: "The signed message has expired.",
  invalid_window: "The signed message's iat and exp are out of bounds.",
  replayed: "This signature was already used.",
  unknown_resource: "There is no such resource.",
  invalid_socket_id: "The socket id is not of the form <digits>.<digits>.",
  invalid_channel: "The channel name is not valid.",
  invalid_channel_data: "channel_data is not a presence user object {user_id, user_info}.",
  invalid_auth: "The auth signature is missing or does not match.",
  invalid_timestamp: "auth_timestamp is missing or more than 600 seconds from the server's clock.",
  body_md5_mismatch: "body_md5 is missing or does not match the body.",
  app_not_found: "There is no app with this id.",
  data_too_large: "The event data is larger than 10 KB.",
  too_many_channels: "Too many channels.",
  batch_too_large: "A batch holds at most 10 events.",
  presence_only: "This works on presence channels only.",
  over_capacity: "This presence channel is full.",
  unavailable: "The server cannot do this right now; try again.",
  too_many_apps: "This account already has as many partner apps as it may register.",
  too_many_connections: "Too many open connections from this address.",
  challenge_not_found: "The challenge is unknown, used or expired.",
  device_not_found: "There is no such paired device.",
  device_not_authenticated: "This socket has not authenticated as a device.",
  too_many_devices: "This account already has as many paired devices as it may have.",
  claim_refused: "The attestor does not grant a claim asked for.",
  request_decided: "This credential request was already decided.",
  attestor_not_hosted: "This attestor is not hosted here: its key is rotated by its owner.",
};

export function protocolError(code: ErrorCode, message = ERROR_MESSAGES[code]): ProtocolError {
  return { code, message };
}

/** Expected outcomes are values; each boundary maps them to HTTP or acks. */
export type Result<T, C extends ErrorCode = ErrorCode> =
  | ({ ok: true } & T)
  /** `reason`: a documented finer cause sent beside the code (e.g. `credential_revoked`). */
  | { ok: false; code: C; message?: string; reason?: string };
