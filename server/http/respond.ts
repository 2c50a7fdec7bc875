import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { ERROR_MESSAGES, ERROR_STATUS, type ErrorCode } from "../../lib/protocol/errors";

/**
 * `{"error": {"code", "message"}}` with the status PROTOCOL.md gives the code; a
 * route passes `status` where the contract answers the same code differently
 * (the wallet's GET answers 404/410 where POST /api/auth answers 401).
 */
export function sendError(c: Context, code: ErrorCode, headers?: Record<string, string>, status?: number) {
  return c.json(
    { error: { code, message: ERROR_MESSAGES[code] } },
    (status ?? ERROR_STATUS[code]) as ContentfulStatusCode,
    headers,
  );
}

export type Parsed<T> = { ok: true; data: T } | { ok: false; response: Response };

/** Parses a JSON body with a schema; anything unparseable is `invalid_request`. */
export async function readJsonBody<T>(c: Context, schema: z.ZodType<T>): Promise<Parsed<T>> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    return { ok: false, response: sendError(c, "invalid_request") };
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) return { ok: false, response: sendError(c, "invalid_request") };
  return { ok: true, data: parsed.data };
}
