/**
 * The demo attestor's API (docs/protocol.md section 6). Wallet-facing routes (metadata, challenges,
 * channel auth, requests) serve any origin and need no token: the wallet's signed proof is its
 * credential. The admin routes need a Bearer access token of an address in ADMIN_ADDRESSES and
 * answer only ALLOWED_ORIGINS. Nothing here is cached. Challenges and requests are limited per client
 * IP (RATE_LIMIT_ATTESTOR_CHALLENGES_PER_IP, RATE_LIMIT_ATTESTOR_REQUESTS_PER_IP a minute).
 */
import { Hono, type Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { channelAuthBodySchema, proofBodySchema, requestIdSchema } from "../../../lib/protocol/attestor";
import { ERROR_STATUS, type ErrorCode } from "../../../lib/protocol/errors";
import type { AttestorService } from "../../attestor/attestor-service";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { readJsonBody } from "../body";
import { allowAnyOrigin, allowOrigins } from "../cors";
import { requireAccessToken } from "../require-access-token";
import { requireAdmin } from "../require-admin";
import { limitPerIp } from "../rate-limit";
import { errorBody, sendError } from "../respond";
import { createAttestorRecordRoutes } from "./attestor-records";

const NO_STORE = { "Cache-Control": "no-store" };

function sendFailure(c: Context, failure: { code: ErrorCode; message?: string }) {
  return c.json(errorBody(failure.code, failure.message), ERROR_STATUS[failure.code] as ContentfulStatusCode, NO_STORE);
}

export function createAttestorRoutes(
  ctx: Pick<AppContext, "config" | "signingKey" | "db" | "log" | "stores" | "metrics">,
  attestor: AttestorService,
) {
  const routes = new Hono<ApiEnv>();
  const walletFacing = allowAnyOrigin();
  for (const path of ["/", "/challenges", "/channel-auth", "/requests"]) routes.use(path, walletFacing);
  routes.use("/admin/*", allowOrigins(ctx.config.allowedOrigins), requireAccessToken(ctx), requireAdmin(ctx.config));

  routes.get("/", async (c) => c.json(await attestor.readMetadata(), 200, { "Cache-Control": "public, max-age=300" }));

  const { attestorChallengesPerIp, attestorRequestsPerIp } = ctx.config.rateLimits;
  const limitChallenges = limitPerIp(ctx, {
    bucket: "attestor-challenges",
    limit: attestorChallengesPerIp,
    metric: "attestor_challenges_ip",
  });
  const limitRequests = limitPerIp(ctx, {
    bucket: "attestor-requests",
    limit: attestorRequestsPerIp,
    metric: "attestor_requests_ip",
  });

  routes.post("/challenges", limitChallenges, async (c) => c.json(await attestor.createChallenge(), 200, NO_STORE));

  routes.post("/channel-auth", async (c) => {
    const body = await readJsonBody(c, channelAuthBodySchema);
    if (!body.ok) return body.response;
    const result = await attestor.authorizeChannel({
      socketId: body.data.socket_id,
      channel: body.data.channel_name,
      proof: body.data.proof,
    });
    if (!result.ok) return sendFailure(c, result);
    return c.json({ auth: result.auth }, 200, NO_STORE);
  });

  routes.post("/requests", limitRequests, async (c) => {
    const body = await readJsonBody(c, proofBodySchema);
    if (!body.ok) return body.response;
    const result = await attestor.submitRequest(body.data.proof);
    if (!result.ok) return sendFailure(c, result);
    return c.json({ request: result.request }, result.request.status === "pending" ? 202 : 201, NO_STORE);
  });

  routes.get("/admin/requests", async (c) => c.json({ requests: await attestor.listRequests() }, 200, NO_STORE));

  for (const decision of ["approve", "refuse", "revoke"] as const) {
    routes.post(`/admin/requests/:id/${decision}`, async (c) => {
      const id = requestIdSchema.safeParse(c.req.param("id"));
      if (!id.success) return sendError(c, "not_found");
      const result =
        decision === "revoke"
          ? await attestor.revoke(id.data, c.var.auth.address)
          : await attestor.decide(id.data, decision, c.var.auth.address);
      if (!result.ok) return sendFailure(c, result);
      return c.json({ request: result.request }, 200, NO_STORE);
    });
  }
  routes.route("/admin/attestors", createAttestorRecordRoutes(ctx));
  return routes;
}
