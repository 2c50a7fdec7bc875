import type { AckOf, SocketClientToServerEvents } from "../../lib/protocol/socket-events";
import { ERROR_MESSAGES, type ErrorCode } from "../../lib/protocol/errors";
import type { Logger } from "../logger";
import { readUnavailableDependency, type Availability } from "../availability";

/** A failed ack: `{ok:false, error:{code, message}}`; the message is the code's own unless given. */
export const failAck = (code: ErrorCode, message: string = ERROR_MESSAGES[code]) => ({
  ok: false as const,
  error: { code, message },
});

/** What a socket carries for its events' request ids (server/http/request-id.ts). */
export interface EventIdSource {
  data: { requestId: string; events: number };
}

type ClientEvent = keyof SocketClientToServerEvents;

/**
 * Runs an event's handler with what the client sent, whatever that was: the payload is `unknown`
 * (each handler parses it with its zod schema), the ack is typed by the event map. No ack means
 * no answer, unless `isAckOptional` (then the only argument is the payload). A dependency
 * that does not answer (server/availability.ts) is acked `unavailable` and reported to
 * `availability`, not logged per event; any other unexpected error is logged once and acked
 * as internal_error; nothing a client sends throws past here.
 * Each event of `socket` is numbered: its request id is `<socket's request id>.<n>`, in the log
 * line and the internal_error ack (the string is made only then).
 * Each socket keeps only its listeners; the handler closures passed here live for one event
 * (with 10,000 idle sockets, every closure kept per socket costs memory).
 */
export async function runGuarded<E extends ClientEvent>(
  log: Logger,
  event: E,
  args: readonly unknown[],
  handler: (payload: unknown, ack: (res: AckOf<E>) => void) => Promise<void>,
  options: {
    isAckOptional?: boolean;
    socket?: EventIdSource;
    availability?: Pick<Availability, "reportDown">;
  } = {},
): Promise<void> {
  const ids = options.socket?.data;
  const eventNumber = ids ? ++ids.events : 0;
  const last = args[args.length - 1];
  const hasAck = typeof last === "function";
  if (!hasAck && !options.isAckOptional) return;
  const ack = hasAck ? (last as (res: AckOf<E>) => void) : () => {};
  try {
    await handler(hasAck ? (args.length > 1 ? args[0] : undefined) : args[0], ack);
  } catch (err) {
    const dependency = readUnavailableDependency(err);
    if (dependency) {
      options.availability?.reportDown(dependency, err);
      ack(failAck("unavailable") as AckOf<E>);
      return;
    }
    if (!ids) {
      log.error({ err, event }, "socket handler failed");
      ack(failAck("internal_error") as AckOf<E>);
      return;
    }
    const requestId = `${ids.requestId}.${eventNumber}`;
    log.child({ requestId }).error({ err, event }, "socket handler failed");
    ack(failAck("internal_error", `Something went wrong (request ${requestId}).`) as AckOf<E>);
  }
}
