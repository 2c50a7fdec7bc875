import type { MiddlewareHandler } from "hono";
import type { AppContext } from "../context";
import type { ApiEnv } from "./api-env";
import { sendError } from "./respond";
import { authorizeRequest } from "../tokens/authorize";
import { createAccessTokenVerifier } from "../tokens/access-tokens";

type VerifierDeps = Pick<AppContext, "signingKey" | "config">;

/** One verifier (and so one cache of accepted tokens) per running app, shared by every route. */
const verifiers = new WeakMap<VerifierDeps, ReturnType<typeof createAccessTokenVerifier>>();

function verifierFor(ctx: VerifierDeps) {
  let verify = verifiers.get(ctx);
  if (!verify) {
    verify = createAccessTokenVerifier([ctx.signingKey], {
      issuer: ctx.config.publicUrl,
      audience: ctx.config.publicUrl,
    });
    verifiers.set(ctx, verify);
  }
  return verify;
}

/** Protects a route with a Bearer access token; the claims land in `c.var.auth`. */
export function requireAccessToken(ctx: VerifierDeps): MiddlewareHandler<ApiEnv> {
  const verify = verifierFor(ctx);
  return async (c, next) => {
    const result = await authorizeRequest(c.req.header("authorization"), verify);
    if (!result.ok) return sendError(c, "invalid_token", { "WWW-Authenticate": result.wwwAuthenticate });
    c.set("auth", { userId: result.claims.sub, address: result.claims.address });
    return next();
  };
}
