import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ERROR_MESSAGES, ERROR_STATUS, type ErrorCode } from "../../lib/protocol/errors";

/** The API's error body, `{"error": {"code", "message"}}`; the message is the code's own unless given. */
export function errorBody(code: ErrorCode, message: string = ERROR_MESSAGES[code], reason?: string) {
  return { error: { code, message, ...(reason ? { reason } : {}) } };
}

/**
 * `{"error": {"code", "message"}}` with the status docs/protocol.md gives the code; a
 * route passes `status` where the contract answers the same code differently
 * (the wallet's GET answers 404/410 where POST /api/auth answers 401).
 */
export function sendError(
  c: Context,
  code: ErrorCode,
  headers?: Record<string, string>,
  status?: number,
  reason?: string,
) {
  return c.json(errorBody(code, undefined, reason), (status ?? ERROR_STATUS[code]) as ContentfulStatusCode, headers);
}
