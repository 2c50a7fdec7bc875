/** Error codes of PROTOCOL.md, with the HTTP status each is answered with. */
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
};

export function protocolError(code: ErrorCode, message = ERROR_MESSAGES[code]): ProtocolError {
  return { code, message };
}

/** Expected outcomes are values; each boundary maps them to HTTP or acks. */
export type Result<T, C extends ErrorCode = ErrorCode> = ({ ok: true } & T) | { ok: false; code: C; message?: string };
