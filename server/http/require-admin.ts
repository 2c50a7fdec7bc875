import type { MiddlewareHandler } from "hono";
import type { Config } from "../config";
import type { ApiEnv } from "./api-env";
import { sendError } from "./respond";

/** After requireAccessToken: the caller's address must be in ADMIN_ADDRESSES, else 403 forbidden. */
export function requireAdmin(config: Pick<Config, "adminAddresses">): MiddlewareHandler<ApiEnv> {
  return async (c, next) => {
    if (!config.adminAddresses.has(c.var.auth.address)) return sendError(c, "forbidden");
    return next();
  };
}
