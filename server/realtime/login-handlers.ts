import { loginCancelSchema, loginResumeSchema, loginStartSchema } from "../../lib/protocol/login-schemas";
import type { AppContext } from "../context";
import { loginRoom } from "./emit";
import { failAck as fail, runGuarded } from "./run-guarded";

export type LoginHandlerDeps = Pick<
  AppContext,
  "config" | "log" | "login" | "stores" | "io" | "metrics" | "availability"
>;

/**
 * Counts one start (login:start, or login:push of section 5) against the socket's and the IP's
 * limits; false when either is used up (the caller acks `rate_limited`).
 */
export async function takeStartAllowance(
  ctx: Pick<AppContext, "config" | "stores" | "metrics">,
  socket: { data: { starts: number[]; ip: string } },
): Promise<boolean> {
  const { loginStartPerSocket, loginStartPerIp, windowMs } = ctx.config.rateLimits;
  const t = Date.now();
  const recent = socket.data.starts.filter((at) => at > t - windowMs);
  if (recent.length >= loginStartPerSocket) {
    socket.data.starts = recent;
    ctx.metrics.noteRateLimited("login_start_socket");
    return false;
  }
  recent.push(t);
  socket.data.starts = recent;
  const perIp = await ctx.stores.rateLimiter.hit(`start:${socket.data.ip}`, loginStartPerIp, windowMs);
  if (!perIp.ok) {
    ctx.metrics.noteRateLimited("login_start_ip");
    return false;
  }
  return true;
}

/** `login:start`, `login:resume`, `login:cancel` (docs/protocol.md section 1). */
export function registerLoginHandlers(ctx: LoginHandlerDeps) {
  const { log, login, availability } = ctx;

  ctx.io.on("connection", (socket) => {
    socket.emit("connection:established", { socket_id: socket.data.socketId });

    socket.on("login:start", (...args) =>
      runGuarded(
        log,
        "login:start",
        args,
        async (payload, ack) => {
          const input = loginStartSchema.safeParse(payload ?? undefined);
          if (!input.success) return ack(fail("invalid_request"));
          if (!(await takeStartAllowance(ctx, socket))) return ack(fail("rate_limited"));
          const session = await login.startLogin({ requiredClaims: input.data?.requiredClaims });
          await socket.join(loginRoom(session.sessionId));
          ack({ ok: true, session });
        },
        { socket, availability },
      ),
    );

    socket.on("login:resume", (...args) =>
      runGuarded(
        log,
        "login:resume",
        args,
        async (payload, ack) => {
          const input = loginResumeSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          const result = await login.resumeLogin(input.data);
          if (!result.ok) return ack(fail(result.code));
          await socket.join(loginRoom(result.session.sessionId));
          ack({ ok: true, session: result.session });
        },
        { socket, availability },
      ),
    );

    socket.on("login:cancel", (...args) =>
      runGuarded(
        log,
        "login:cancel",
        args,
        async (payload, ack) => {
          const input = loginCancelSchema.safeParse(payload);
          if (!input.success) return ack(fail("invalid_request"));
          const result = await login.cancelLogin(input.data);
          ack(result.ok ? { ok: true } : fail(result.code));
        },
        { socket, availability },
      ),
    );
  });
}
