/**
 * Push login's socket events (docs/protocol.md section 5): `login:push` from a page, and the
 * device's `device:challenge`, `device:auth`, `push:open`, `push:approve`, `push:deny`.
 * - The page's answer does not depend on the address: devices are looked up after the ack.
 * - Device challenges are single use (KeyValueStore.take) and bound to the socket that asked.
 * - A device socket joins `device:<id>` (unpairing disconnects it on every node),
 *   `device-ip:<id>:<ip>` (so a push's `ipMatches` is computed for each socket by room, on
 *   every node) and `push-addr:<address>` (`push:closed` for its address).
 * - A device that authenticates while its address's latest push is still open gets that push
 *   at once (the latest push per address is in the key-value store, so on any node).
 * - A push reaches a device socket at most once: the socket joins `pushed:<sessionId>` as the
 *   push is sent to it (by either path; the room is local to the socket's node, where each
 *   delivery is decided), and the broadcast skips that room, the late path checks it. It leaves
 *   the room when the push closes; the rooms kept per socket are bounded.
 * - When the store comes back without its records, a device socket holding a push the store
 *   forgot is told `push:closed` `expired` (`store_reset`), as the push's page is.
 */
import {
  CHALLENGE_TTL_MS,
  deviceAuthSchema,
  deviceChallengeSchema,
  formatDeviceAuthMessage,
  loginPushSchema,
  pushApproveSchema,
  pushDenySchema,
  pushOpenSchema,
  type PushRequest,
} from "../../lib/protocol/push";
import { toChecksumAddress } from "../../lib/protocol/siwe";
import type { AppContext } from "../context";
import { matchModeOf, shownMatchChoices, type LoginSessionRecord } from "../store/types";
import { randomBase64url } from "../crypto/random";
import { recoverPersonalSign } from "../crypto/eip191";
import { keccak256 } from "../crypto/keccak";
import {
  type DeviceRecord,
  findDevice,
  findPushTargets,
  muteDevice,
  recordSecurityEvent,
  toDeviceView,
  touchDevice,
} from "../push/devices";
import { describeUserAgent } from "../push/user-agent";
import { loginRoom } from "./emit";
import { takeStartAllowance } from "./login-handlers";
import { failAck as fail, runGuarded } from "./run-guarded";
import type { AppSocketServer } from "./socket-server";

type AppSocket = Parameters<Parameters<AppSocketServer["on"]>[1]>[0];

export type PushHandlerDeps = Pick<
  AppContext,
  "config" | "log" | "login" | "stores" | "io" | "metrics" | "db" | "verifier" | "availability"
>;

export const deviceRoom = (deviceId: string) => `device:${deviceId}`;
const deviceIpRoom = (deviceId: string, ip: string) => `device-ip:${deviceId}:${ip}`;
export const pushAddressRoom = (address: string) => `push-addr:${address.toLowerCase()}`;
const latestPushKey = (address: string) => `push-latest:${address.toLowerCase()}`;
const deviceChallengeKey = (id: string) => `device-challenge:${id}`;
const pushedRoom = (sessionId: string) => `pushed:${sessionId}`;
/** Open pushes remembered per socket: the per-address caps keep far fewer open at once. */
const MAX_TRACKED_PUSHES = 16;
const TEN_MINUTES_MS = 600_000;
const HOUR_MS = 3_600_000;

/** `push:closed` to the devices of a push session's address, on every node. */
export function emitPushClosed(io: AppSocketServer, session: LoginSessionRecord) {
  if (!session.pushAddress) return;
  io.to(pushAddressRoom(session.pushAddress)).emit("push:closed", {
    sessionId: session.id,
    state: session.state,
    ...(session.reason ? { reason: session.reason } : {}),
  });
}

/**
 * Marks each push as it is sent to this device socket (its `pushed:` room, which delivery skips)
 * and unmarks it when it closes. The outgoing listener runs synchronously for direct emits and
 * for broadcasts alike, on the socket's node, so whichever delivery comes second sees the mark.
 */
function trackPushes(socket: AppSocket) {
  if (socket.data.pushes) return;
  const pushes: string[] = [];
  socket.data.pushes = pushes;
  socket.onAnyOutgoing((event: unknown, payload: unknown) => {
    const sessionId = (payload as { sessionId?: unknown } | null)?.sessionId;
    if (typeof sessionId !== "string") return;
    if (event === "push:request") {
      if (pushes.includes(sessionId)) return;
      pushes.push(sessionId);
      void socket.join(pushedRoom(sessionId));
      const oldest = pushes.length > MAX_TRACKED_PUSHES ? pushes.shift() : undefined;
      if (oldest !== undefined) void socket.leave(pushedRoom(oldest));
    } else if (event === "push:closed") {
      const at = pushes.indexOf(sessionId);
      if (at < 0) return;
      pushes.splice(at, 1);
      void socket.leave(pushedRoom(sessionId));
    }
  });
}

/**
 * The store came back without its records (stores.onReset): each device socket on this node that
 * holds an open push the store forgot hears `push:closed` `expired` (`store_reset`) at once;
 * nothing else would tell it, as the forgotten session no longer names its address.
 */
export async function closeForgottenPushes(io: AppSocketServer, login: Pick<AppContext["login"], "isForgotten">) {
  const forgotten = new Map<string, Promise<boolean>>();
  for (const socket of io.of("/").sockets.values()) {
    for (const sessionId of [...(socket.data.pushes ?? [])]) {
      let isForgotten = forgotten.get(sessionId);
      if (!isForgotten) {
        isForgotten = login.isForgotten(sessionId);
        forgotten.set(sessionId, isForgotten);
      }
      if ((await isForgotten) && socket.connected && socket.data.pushes?.includes(sessionId)) {
        socket.emit("push:closed", { sessionId, state: "expired", reason: "store_reset" });
      }
    }
  }
}

export function toPushRequest(
  ctx: Pick<AppContext, "config">,
  session: LoginSessionRecord,
  deviceIp: string | null,
): PushRequest {
  const c = session.pushContext;
  return {
    sessionId: session.id,
    appName: ctx.config.appName,
    domain: ctx.config.domain,
    uri: ctx.config.publicUrl,
    version: "1",
    chainId: ctx.config.chainId,
    nonce: session.nonce,
    issuedAt: new Date(session.issuedAt).toISOString(),
    expirationTime: new Date(session.expiresAt).toISOString(),
    statement: `Sign in to ${ctx.config.appName}`,
    requestId: session.id,
    address: session.pushAddress ?? "",
    matchMode: matchModeOf(session),
    ...(matchModeOf(session) === "choose" ? { matchChoices: shownMatchChoices(session) } : {}),
    context: {
      origin: c?.origin ?? null,
      browser: c?.browser ?? "unknown",
      os: c?.os ?? "unknown",
      ip: c?.ip ?? null,
      ipMatches: !!c?.ip && c.ip === deviceIp,
      time: new Date(session.issuedAt).toISOString(),
    },
  };
}

export function registerPushHandlers(ctx: PushHandlerDeps) {
  const { config, log, login, stores, db, io, availability } = ctx;

  /** After the page's ack: supersede the address's older push, then reach its devices. */
  async function deliver(session: LoginSessionRecord) {
    const address = session.pushAddress ?? "";
    const older = await stores.keyValues.swap(latestPushKey(address), session.id, session.expiresAt);
    if (older && older !== session.id) await login.supersedePush(older);
    const targets = await findPushTargets(db, address, new Date());
    const ip = session.pushContext?.ip ?? null;
    const request = toPushRequest(ctx, session, null);
    const elsewhere = { sessionId: session.id, request };
    const sameIp = { sessionId: session.id, request: { ...request, context: { ...request.context, ipMatches: true } } };
    // A socket that already got it (deliverPending, as it authenticated) is skipped.
    const pushed = pushedRoom(session.id);
    for (const device of targets) {
      // The sockets of one device may sit on several nodes and networks: those in the room of
      // the page's IP get ipMatches true, the others false.
      if (!ip) {
        io.to(deviceRoom(device.id)).except(pushed).emit("push:request", elsewhere);
        continue;
      }
      io.to(deviceIpRoom(device.id, ip)).except(pushed).emit("push:request", sameIp);
      io.to(deviceRoom(device.id))
        .except([deviceIpRoom(device.id, ip), pushed])
        .emit("push:request", elsewhere);
    }
  }

  /** The address's latest push, if still open, to a device socket that has just authenticated. */
  async function deliverPending(socket: AppSocket, device: DeviceRecord) {
    if (device.mutedUntil && device.mutedUntil.getTime() > Date.now()) return;
    const latest = await stores.keyValues.get(latestPushKey(device.address));
    const session = latest ? await login.readOpenPush(latest, device.address) : null;
    // No await from this check to the emit: the broadcast of deliver cannot slip in between.
    if (session && !socket.rooms.has(pushedRoom(session.id))) {
      socket.emit("push:request", { sessionId: session.id, request: toPushRequest(ctx, session, socket.data.ip) });
    }
  }

  ctx.io.on("connection", (socket) => {
    socket.on("login:push", (...args) =>
      runGuarded(
        log,
        "login:push",
        args,
        async (payload, ack) => {
          const input = loginPushSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          let address: string;
          try {
            address = toChecksumAddress(input.data.address, keccak256);
          } catch {
            return ack(fail("invalid_request"));
          }
          const digits = input.data.address.slice(2);
          if (digits !== digits.toLowerCase() && digits !== digits.toUpperCase() && address !== input.data.address) {
            return ack(fail("invalid_request"));
          }
          // The limits of login:start (per socket, per IP) count pushes too.
          if (!(await takeStartAllowance(ctx, socket))) return ack(fail("rate_limited"));
          // Per address, known or not: the same answer either way.
          const key = address.toLowerCase();
          const short = await stores.rateLimiter.hit(`push10m:${key}`, config.push.capPer10Min, TEN_MINUTES_MS);
          const long = short.ok
            ? await stores.rateLimiter.hit(`push1h:${key}`, config.push.capPerHour, HOUR_MS)
            : short;
          if (!short.ok || !long.ok) return ack(fail("rate_limited"));
          const userAgent = socket.handshake.headers["user-agent"] ?? null;
          const origin = socket.handshake.headers.origin ?? null;
          const started = await login.startLogin({
            push: {
              address,
              context: {
                origin,
                ...describeUserAgent(userAgent),
                ip: socket.data.ip,
                userAgent: userAgent?.slice(0, 512) ?? null,
              },
            },
          });
          await socket.join(loginRoom(started.sessionId));
          ack({
            ok: true,
            session: {
              sessionId: started.sessionId,
              state: "pending",
              expiresAt: started.expiresAt,
              matchCode: started.matchCode,
              browserSecret: started.browserSecret,
            },
          });
          const session = await stores.loginSessions.get(started.sessionId);
          if (session) {
            deliver(session).catch((err: unknown) => log.warn({ err, sessionId: session.id }, "push delivery failed"));
          }
        },
        { socket, availability },
      ),
    );

    socket.on("device:challenge", (...args) =>
      runGuarded(
        log,
        "device:challenge",
        args,
        async (payload, ack) => {
          const input = deviceChallengeSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          const device = await findDevice(db, input.data.deviceId);
          if (!device || device.revokedAt) return ack(fail("device_not_found"));
          const challengeId = randomBase64url(16);
          const issuedAt = new Date().toISOString();
          const expiresAt = Date.now() + CHALLENGE_TTL_MS;
          const message = formatDeviceAuthMessage({
            domain: config.domain,
            address: device.address,
            deviceId: device.id,
            challengeId,
            issuedAt,
          });
          await stores.keyValues.put(
            deviceChallengeKey(challengeId),
            JSON.stringify({ deviceId: device.id, message }),
            expiresAt,
          );
          socket.data.deviceChallenge = challengeId;
          ack({ ok: true, challengeId, message, expiresAt: new Date(expiresAt).toISOString() });
        },
        { socket, availability },
      ),
    );

    socket.on("device:auth", (...args) =>
      runGuarded(
        log,
        "device:auth",
        args,
        async (payload, ack) => {
          const input = deviceAuthSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          // Only this socket's own challenge, once.
          if (socket.data.deviceChallenge !== input.data.challengeId) return ack(fail("challenge_not_found"));
          socket.data.deviceChallenge = undefined;
          const raw = await stores.keyValues.take(deviceChallengeKey(input.data.challengeId));
          if (!raw) return ack(fail("challenge_not_found"));
          const { deviceId, message } = JSON.parse(raw) as { deviceId: string; message: string };
          const device = await findDevice(db, deviceId);
          if (!device || device.revokedAt) return ack(fail("device_not_found"));
          const recovered = recoverPersonalSign(ctx.verifier, message, input.data.signature);
          if (!recovered || recovered !== device.address) return ack(fail("invalid_signature"));
          await touchDevice(db, device.id);
          socket.data.device = { id: device.id, address: device.address, userId: device.userId };
          trackPushes(socket);
          await socket.join([
            deviceRoom(device.id),
            deviceIpRoom(device.id, socket.data.ip),
            pushAddressRoom(device.address),
          ]);
          ack({ ok: true, device: toDeviceView({ ...device, lastSeenAt: new Date() }) });
          // After the ack, so the device knows it is connected before its first push.
          await deliverPending(socket, device);
        },
        { socket, availability },
      ),
    );

    /** The device behind this socket, still paired (an unpaired one is refused even before its disconnect lands). */
    async function currentDevice() {
      const known = socket.data.device;
      if (!known) return null;
      const device = await findDevice(db, known.id);
      return device && !device.revokedAt ? device : null;
    }

    socket.on("push:open", (...args) =>
      runGuarded(
        log,
        "push:open",
        args,
        async (payload, ack) => {
          const input = pushOpenSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          if (!socket.data.device) return ack(fail("device_not_authenticated"));
          const device = await currentDevice();
          if (!device) return ack(fail("device_not_found"));
          const opened = await login.openPush(input.data.sessionId, device.address);
          if (!opened.ok) return ack(fail(opened.code));
          ack({ ok: true, request: toPushRequest(ctx, opened.session, socket.data.ip) });
        },
        { socket, availability },
      ),
    );

    socket.on("push:approve", (...args) =>
      runGuarded(
        log,
        "push:approve",
        args,
        async (payload, ack) => {
          const input = pushApproveSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          if (!socket.data.device) return ack(fail("device_not_authenticated"));
          const device = await currentDevice();
          if (!device) return ack(fail("device_not_found"));
          const result = await login.submitLoginAnswer(
            input.data,
            { ip: socket.data.ip, userAgent: socket.handshake.headers["user-agent"]?.slice(0, 512) },
            { pushAddress: device.address },
          );
          ack(result.ok ? { ok: true, state: "approved" } : fail(result.code));
        },
        { socket, availability },
      ),
    );

    socket.on("push:deny", (...args) =>
      runGuarded(
        log,
        "push:deny",
        args,
        async (payload, ack) => {
          const input = pushDenySchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          if (!socket.data.device) return ack(fail("device_not_authenticated"));
          const device = await currentDevice();
          if (!device) return ack(fail("device_not_found"));
          const notMe = input.data.notMe === true;
          const result = await login.denyPush(input.data.sessionId, {
            pushAddress: device.address,
            reason: notMe ? "not_me" : "user_denied",
          });
          if (!result.ok) return ack(fail(result.code));
          if (notMe) {
            await muteDevice(db, device.id, new Date(Date.now() + config.push.muteMs));
            const c = result.session.pushContext;
            await recordSecurityEvent(db, {
              userId: device.userId,
              kind: "push_not_me",
              deviceId: device.id,
              sessionId: result.session.id,
              ip: c?.ip ?? null,
              userAgent: c?.userAgent ?? null,
            });
          }
          ack({ ok: true, state: "denied" });
        },
        { socket, availability },
      ),
    );
  });
}
