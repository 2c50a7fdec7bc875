import { loginCancelSchema, loginResumeSchema, loginStartSchema } from "../../lib/protocol/login-schemas";
import { ENDED_STATES, type Ack, type LoginStateEvent } from "../../lib/protocol/login";
import { ERROR_MESSAGES, type ErrorCode } from "../../lib/protocol/errors";
import type { AppContext } from "../context";
import type { AppSocketServer } from "./socket-server";

/** The room of the sockets holding a session's browser secret; nobody else joins it. */
export const loginRoom = (sessionId: string) => `login:${sessionId}`;

export function emitLoginState(io: AppSocketServer, event: LoginStateEvent) {
  const room = loginRoom(event.sessionId);
  io.to(room).emit("login:state", event);
  // Nothing follows an end: free the room, so a long-lived tab does not collect them.
  if (ENDED_STATES.includes(event.state)) io.in(room).socketsLeave(room);
}

const fail = (code: ErrorCode): Ack<never> => ({ ok: false, error: { code, message: ERROR_MESSAGES[code] } });

type AckFn = (res: Ack<Record<string, unknown>>) => void;

/**
 * Runs an event's handler: no ack means no answer; an unexpected error is logged once and acked as
 * internal_error. Each socket keeps only its listeners; the handler closures they pass here live
 * for one event (with 10,000 idle sockets, every closure kept per socket is ~0.5 MB).
 */
async function runGuarded(
  ctx: AppContext,
  event: string,
  args: unknown[],
  handler: (payload: unknown, ack: AckFn) => Promise<void>,
): Promise<void> {
  const ack = args[args.length - 1];
  if (typeof ack !== "function") return;
  try {
    await handler(args.length > 1 ? args[0] : undefined, ack as AckFn);
  } catch (err) {
    ctx.log.error({ err, event }, "socket handler failed");
    (ack as AckFn)(fail("internal_error"));
  }
}

/** `login:start`, `login:resume`, `login:cancel` (PROTOCOL.md section 1). */
export function registerLoginHandlers(ctx: AppContext) {
  const { config, login, stores } = ctx;
  const { loginStartPerSocket, loginStartPerIp, windowMs } = config.rateLimits;

  ctx.io.on("connection", (socket) => {
    socket.emit("connection:established", { socket_id: socket.data.socketId });

    socket.on("login:start", (...args: unknown[]) =>
      runGuarded(ctx, "login:start", args, async (payload, ack) => {
        const input = loginStartSchema.safeParse(payload ?? undefined);
        if (!input.success) return ack(fail("invalid_request"));
        const t = Date.now();
        const recent = socket.data.starts.filter((at) => at > t - windowMs);
        if (recent.length >= loginStartPerSocket) {
          socket.data.starts = recent;
          return ack(fail("rate_limited"));
        }
        recent.push(t);
        socket.data.starts = recent;
        const perIp = await stores.rateLimiter.hit(`start:${socket.data.ip}`, loginStartPerIp, windowMs);
        if (!perIp.ok) return ack(fail("rate_limited"));
        const session = await login.startLogin({ requiredClaims: input.data?.requiredClaims });
        await socket.join(loginRoom(session.sessionId));
        ack({ ok: true, session });
      }),
    );

    socket.on("login:resume", (...args: unknown[]) =>
      runGuarded(ctx, "login:resume", args, async (payload, ack) => {
        const input = loginResumeSchema.safeParse(payload);
        if (!input.success) return ack(fail("invalid_request"));
        const result = await login.resumeLogin(input.data);
        if (!result.ok) return ack(fail(result.code));
        await socket.join(loginRoom(result.session.sessionId));
        ack({ ok: true, session: result.session });
      }),
    );

    socket.on("login:cancel", (...args: unknown[]) =>
      runGuarded(ctx, "login:cancel", args, async (payload, ack) => {
        const input = loginCancelSchema.safeParse(payload);
        if (!input.success) return ack(fail("invalid_request"));
        const result = await login.cancelLogin(input.data);
        ack(result.ok ? { ok: true } : fail(result.code));
      }),
    );
  });
}
