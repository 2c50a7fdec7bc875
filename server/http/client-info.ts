import type { Context } from "hono";
import type { HttpBindings } from "@hono/node-server";

/** The caller's IP: the socket's peer, or the first X-Forwarded-For hop when TRUST_PROXY is set. */
export function readClientIp(c: Context, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    if (forwarded) return forwarded.slice(0, 64);
  }
  return (c.env as HttpBindings | undefined)?.incoming?.socket?.remoteAddress ?? "unknown";
}

export function readUserAgent(c: Context): string | undefined {
  return c.req.header("user-agent")?.slice(0, 512);
}
