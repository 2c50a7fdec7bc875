import type { Context } from "hono";
import type { HttpBindings } from "@hono/node-server";
import { resolveClientIp, type ProxyTrust } from "./client-ip";

/** The caller's IP: the socket's peer, or what trusted proxies say in X-Forwarded-For (see ./client-ip.ts). */
export function readClientIp(c: Context, trust: ProxyTrust): string {
  const incoming = (c.env as HttpBindings | undefined)?.incoming;
  return resolveClientIp(incoming?.socket?.remoteAddress, incoming?.headers["x-forwarded-for"], trust).slice(0, 64);
}

export function readUserAgent(c: Context): string | undefined {
  return c.req.header("user-agent")?.slice(0, 512);
}
