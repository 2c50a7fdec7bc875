/**
 * Devices for push login (docs/protocol.md section 5.1) and the user's security events (5.4).
 * Pairing is answered to a wallet (no token: the signature over a single-use challenge is the
 * proof); listing, renaming and unpairing need the user's Bearer access token. Unpairing
 * disconnects the device's sockets on every node (a room per device, through the adapter).
 */
import { Hono } from "hono";
import {
  CHALLENGE_TTL_MS,
  DEFAULT_DEVICE_NAME,
  MAX_DEVICES_PER_USER,
  deviceIdSchema,
  formatPairingMessage,
  pairBodySchema,
  pairChallengeBodySchema,
  renameDeviceBodySchema,
} from "../../../lib/protocol/push";
import { toChecksumAddress } from "../../../lib/protocol/siwe";
import type { AppContext } from "../../context";
import type { ApiEnv } from "../api-env";
import { sendError } from "../respond";
import { readJsonBody } from "../body";
import { allowOrigins } from "../cors";
import { requireAccessToken } from "../require-access-token";
import { randomBase64url } from "../../crypto/random";
import { recoverPersonalSign } from "../../crypto/eip191";
import { keccak256 } from "../../crypto/keccak";
import {
  listDevices,
  listSecurityEvents,
  pairDevice,
  renameDevice,
  revokeDevice,
  toDeviceView,
} from "../../push/devices";
import { deviceRoom } from "../../realtime/push-handlers";

const NO_STORE = { "Cache-Control": "no-store" };
const pairingChallengeKey = (id: string) => `pair-challenge:${id}`;

export type DeviceRouteDeps = Pick<AppContext, "config" | "db" | "stores" | "verifier" | "signingKey" | "io">;

function checksumOf(address: string): string | null {
  try {
    const sum = toChecksumAddress(address, keccak256);
    const digits = address.slice(2);
    if (digits !== digits.toLowerCase() && digits !== digits.toUpperCase() && sum !== address) return null;
    return sum;
  } catch {
    return null;
  }
}

export function createDeviceRoutes(ctx: DeviceRouteDeps) {
  const routes = new Hono<ApiEnv>();
  routes.use("*", allowOrigins(ctx.config.allowedOrigins));
  const auth = requireAccessToken(ctx);

  routes.post("/challenge", async (c) => {
    const body = await readJsonBody(c, pairChallengeBodySchema);
    if (!body.ok) return body.response;
    const address = checksumOf(body.data.address);
    if (!address) return sendError(c, "invalid_request");
    const challengeId = randomBase64url(16);
    const expiresAt = Date.now() + CHALLENGE_TTL_MS;
    const message = formatPairingMessage({
      domain: ctx.config.domain,
      address,
      challengeId,
      issuedAt: new Date().toISOString(),
    });
    await ctx.stores.keyValues.put(pairingChallengeKey(challengeId), JSON.stringify({ address, message }), expiresAt);
    return c.json({ challengeId, message, expiresAt: new Date(expiresAt).toISOString() }, 200, NO_STORE);
  });

  routes.post("/", async (c) => {
    const body = await readJsonBody(c, pairBodySchema);
    if (!body.ok) return body.response;
    const raw = await ctx.stores.keyValues.take(pairingChallengeKey(body.data.challengeId));
    if (!raw) return sendError(c, "challenge_not_found");
    const { address, message } = JSON.parse(raw) as { address: string; message: string };
    const recovered = recoverPersonalSign(ctx.verifier, message, body.data.signature);
    if (!recovered || recovered !== address) return sendError(c, "invalid_signature");
    const device = await pairDevice(ctx.db, {
      address,
      name: body.data.name ?? DEFAULT_DEVICE_NAME,
      max: MAX_DEVICES_PER_USER,
    });
    if (!device) return sendError(c, "too_many_devices");
    return c.json({ device: toDeviceView(device) }, 201, NO_STORE);
  });

  routes.get("/", auth, async (c) => {
    const devices = await listDevices(ctx.db, c.var.auth.userId);
    return c.json({ devices: devices.map(toDeviceView) }, 200, NO_STORE);
  });

  routes.patch("/:id", auth, async (c) => {
    const id = deviceIdSchema.safeParse(c.req.param("id"));
    if (!id.success) return sendError(c, "not_found");
    const body = await readJsonBody(c, renameDeviceBodySchema);
    if (!body.ok) return body.response;
    const device = await renameDevice(ctx.db, c.var.auth.userId, id.data, body.data.name);
    if (!device) return sendError(c, "not_found");
    return c.json({ device: toDeviceView(device) }, 200, NO_STORE);
  });

  routes.delete("/:id", auth, async (c) => {
    const id = deviceIdSchema.safeParse(c.req.param("id"));
    if (!id.success) return sendError(c, "not_found");
    const revoked = await revokeDevice(ctx.db, c.var.auth.userId, id.data);
    if (!revoked) return sendError(c, "not_found");
    await ctx.io.in(deviceRoom(id.data)).disconnectSockets(true);
    return c.json({ ok: true }, 200, NO_STORE);
  });

  return routes;
}

export function createSecurityEventRoutes(ctx: Pick<AppContext, "config" | "db" | "signingKey">) {
  const routes = new Hono<ApiEnv>();
  routes.use("*", allowOrigins(ctx.config.allowedOrigins));
  routes.use("*", requireAccessToken(ctx));
  routes.get("/", async (c) => {
    const events = await listSecurityEvents(ctx.db, c.var.auth.userId);
    return c.json({ events }, 200, NO_STORE);
  });
  return routes;
}
