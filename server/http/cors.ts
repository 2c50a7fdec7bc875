import type { MiddlewareHandler } from "hono";
import { sendError } from "./respond";

/**
 * Browser-facing endpoints accept only the origins in ALLOWED_ORIGINS (with
 * credentials, for the refresh cookie). A request without an Origin header is not
 * from a browser page and is let through; the cookie is SameSite=Lax besides.
 */
export function allowOrigins(allowed: readonly string[]): MiddlewareHandler {
  return async (c, next) => {
    const origin = c.req.header("origin");
    if (!origin) return next();
    if (!allowed.includes(origin)) return sendError(c, "origin_not_allowed");
    c.header("Access-Control-Allow-Origin", origin);
    c.header("Access-Control-Allow-Credentials", "true");
    c.header("Vary", "Origin");
    if (c.req.method === "OPTIONS") {
      // PATCH and DELETE: a page renames and unpairs devices (/api/devices/{id}).
      c.header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
      c.header("Access-Control-Allow-Headers", "Content-Type, Authorization, X-Browser-Secret");
      c.header("Access-Control-Max-Age", "600");
      return c.body(null, 204);
    }
    return next();
  };
}

/** Wallet-facing endpoints serve any origin (a web wallet anywhere), without credentials. */
export function allowAnyOrigin(): MiddlewareHandler {
  return async (c, next) => {
    c.header("Access-Control-Allow-Origin", "*");
    if (c.req.method === "OPTIONS") {
      c.header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
      c.header("Access-Control-Allow-Headers", "Content-Type");
      c.header("Access-Control-Max-Age", "600");
      return c.body(null, 204);
    }
    return next();
  };
}
